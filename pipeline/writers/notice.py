"""Word notices from templates HR edits in Word (docxtpl): feedback notices, reminders."""

from __future__ import annotations

import io

from ..errors import TemplateError


def render_notice(template: bytes, context: dict[str, object], what: str) -> bytes:
    """``template`` filled with ``context`` (values escaped); a broken tag names ``what``."""
    from docxtpl import DocxTemplate
    from jinja2 import TemplateError as JinjaError

    document = DocxTemplate(io.BytesIO(template))
    try:
        document.render(context, autoescape=True)
    except JinjaError as exc:
        raise TemplateError(f"{what}模板中的标签写法有误：{exc}") from exc
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
