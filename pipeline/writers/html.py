"""The exception report as one self-contained HTML page HR can open in a browser or print.
Everything from inputs is escaped; nothing is fetched from elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

STYLE = """
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; margin: 2em; color: #222; }
h1 { font-size: 20pt; text-align: center; margin-bottom: 0.2em; }
p.sub { text-align: center; color: #555; margin-top: 0; }
h2 { font-size: 14pt; border-bottom: 2px solid #444; padding-bottom: 2px; margin-top: 1.6em; }
table { border-collapse: collapse; width: 100%; font-size: 10.5pt; }
th, td { border: 1px solid #999; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #d9e1f2; }
.error { color: #b00020; font-weight: bold; } .warning { color: #a15c00; } .info { color: #1f5f99; }
p.todo { background: #f4f4f4; padding: 4px 8px; margin: 0.4em 0; }
@media print { body { margin: 1cm; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
"""


@dataclass(frozen=True)
class Section:
    code: str
    title: str
    severity: str
    todo: str
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


SEVERITY_WORDS = {"error": "错误", "warning": "提醒", "info": "关注"}


def report_page(
    title: str, subtitle: str, summary: Sequence[Sequence[str]], sections: Sequence[Section]
) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">{escape(subtitle)}</p>',
        '<h2 id="summary">汇总</h2>',
        _table(("代码", "问题", "级别", "数量"), summary)
        if summary
        else "<p>没有需要处理的问题。</p>",
    ]
    for section in sections:
        word = SEVERITY_WORDS.get(section.severity, section.severity)
        badge = f'<span class="{escape(section.severity)}">{escape(word)}</span>'
        parts.append(
            f'<h2 id="{escape(section.code)}">{escape(section.title)}（{escape(section.code)}）'
            f" {badge} {len(section.rows)} 项</h2>"
        )
        parts.append(f'<p class="todo">怎么办：{escape(section.todo)}</p>')
        parts.append(_table(section.headers, section.rows))
    parts.append("</body></html>")
    return "\n".join(parts)
