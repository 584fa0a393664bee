"""The exception report as one self-contained HTML page HR can open in a browser or print.
Everything from inputs is escaped; nothing is fetched from elsewhere."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
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
    """One code's rows; ``rows`` may be read once, as the page is written (``count`` of them)."""

    code: str
    title: str
    severity: str
    todo: str
    headers: Sequence[str]
    count: int
    rows: Iterable[Sequence[str]]


#: Rows of a table written per piece of the page.
ROWS_PER_PIECE = 500


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[str]:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    yield f"<table><thead><tr>{head}</tr></thead><tbody>"
    rows = iter(rows)
    while piece := list(itertools.islice(rows, ROWS_PER_PIECE)):
        yield "".join(
            "<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>"
            for row in piece
        )
    yield "</tbody></table>"


SEVERITY_WORDS = {"error": "错误", "warning": "提醒", "info": "关注"}


def report_page(
    title: str, subtitle: str, summary: Sequence[Sequence[str]], sections: Iterable[Section]
) -> Iterator[str]:
    """The page a piece at a time (a section's rows are read as they are written)."""
    yield "<!DOCTYPE html>\n"
    yield '<html lang="zh-CN"><head><meta charset="utf-8">\n'
    yield f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>\n"
    yield f"<h1>{escape(title)}</h1>\n"
    yield f'<p class="sub">{escape(subtitle)}</p>\n'
    yield '<h2 id="summary">汇总</h2>\n'
    if summary:
        yield from _table(("代码", "问题", "级别", "数量"), summary)
    else:
        yield "<p>没有需要处理的问题。</p>"
    for section in sections:
        word = SEVERITY_WORDS.get(section.severity, section.severity)
        badge = f'<span class="{escape(section.severity)}">{escape(word)}</span>'
        yield (
            f'\n<h2 id="{escape(section.code)}">{escape(section.title)}（{escape(section.code)}）'
            f" {badge} {section.count} 项</h2>\n"
        )
        yield f'<p class="todo">怎么办：{escape(section.todo)}</p>\n'
        yield from _table(section.headers, section.rows)
    yield "\n</body></html>"
