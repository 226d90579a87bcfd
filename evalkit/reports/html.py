"""Self-contained HTML: inline CSS, images as data URIs, no script and no network to view it."""
from __future__ import annotations

import base64
import re
from html import escape

import pandas as pd

#: cells right-aligned as numbers: 12.5, +0.3, [1.0, 2.0], 1,200.0, 774.7 MiB, –
NUMERIC = re.compile(r"^(–|[+\-]?[\d,]+(\.\d+)?( [KMGT]?i?B)?|\[[^\]]*\])$")
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#1d2430;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c5cad3;font-size:13px}
nav{padding:10px 32px;background:#e9ecf1;font-size:14px}nav a{margin-right:18px;color:#1f5fbf;text-decoration:none}
main{padding:8px 32px 40px;max-width:1400px}
section.task{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:6px 22px 18px;margin:18px 0}
h2{font-size:20px;border-bottom:1px solid #dde1e7;padding-bottom:6px}h3{font-size:16px;margin-top:22px}
table{border-collapse:collapse;font-size:13px;margin:8px 0 4px}.scroll{overflow-x:auto}
th,td{border:1px solid #dde1e7;padding:4px 9px;text-align:left;white-space:nowrap}
th{background:#f0f2f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.flag td{background:#fff4e0}tr.sig td{background:#eaf6ea}
figure{margin:12px 0}figure img{max-width:100%;border:1px solid #dde1e7}
figcaption,.note{font-size:12px;color:#5a6270}.files a{margin-right:12px;font-size:13px}
"""


def page(title: str, subtitle: str, nav: list[tuple[str, str]], sections: list[str]) -> str:
    """A whole HTML document around already rendered ``sections``."""
    links = "".join(f'<a href="{escape(href)}">{escape(text)}</a>' for text, href in nav)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{escape(title)}</title>"
        f"<style>{CSS}</style></head><body><header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header>"
        f"<nav>{links}</nav><main>{''.join(sections)}</main></body></html>\n"
    )


def section(anchor: str, heading: str, body: str) -> str:
    return f'<section class="task" id="{escape(anchor)}"><h2>{escape(heading)}</h2>{body}</section>'


def table(frame: pd.DataFrame, row_classes: list[str] | None = None) -> str:
    """A table of string cells; ``row_classes`` highlights rows (flagged runs, significant pairs)."""
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    body = []
    for i, row in enumerate(frame.itertuples(index=False)):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(_cell(v) for v in row) + "</tr>")
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
            "</div>")


def _cell(value: object) -> str:
    text = str(value)
    numeric = bool(NUMERIC.match(text))
    return f'<td class="num">{escape(text)}</td>' if numeric else f"<td>{escape(text)}</td>"


def figure(png: bytes, alt: str, caption: str = "") -> str:
    """A PNG embedded as a data URI, so the page is one file."""
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="data:image/png;base64,{data}" alt="{escape(alt)}">{cap}</figure>'


def heading(level: int, text: str) -> str:
    return f"<h{level}>{escape(text)}</h{level}>"


def paragraph(text: str, cls: str = "note") -> str:
    return f'<p class="{cls}">{escape(text)}</p>'


def links(items: list[tuple[str, str]]) -> str:
    return '<p class="files">' + "".join(f'<a href="{escape(h)}">{escape(t)}</a>' for t, h in items) + "</p>"
