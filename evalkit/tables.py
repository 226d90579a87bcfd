"""Plain-text tables for the terminal (no dependency, aligned columns), with user text made harmless."""
from __future__ import annotations

import re
from typing import Any, Sequence

#: what must not reach a terminal raw: C0/C1 controls (escape sequences, NUL, newlines), DEL, bidirectional
#: overrides and isolates, zero-width and line/paragraph separators
UNSAFE_TERMINAL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def terminal_safe(text: str) -> str:
    """``text`` with every control or direction-changing character shown as its escape (``\x1b``, ``\u202e``)."""
    return UNSAFE_TERMINAL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1e6 else f"{value:.4g}"
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, float) for v in value):
        return f"[{value[0]:.4f}, {value[1]:.4f}]"
    return "" if value is None else terminal_safe(str(value))


def render_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return "(no rows)"
    columns = list(columns or dict.fromkeys(k for row in rows for k in row))
    cells = [[format_value(row.get(c)) for c in columns] for row in rows]
    headers = [terminal_safe(str(c)) for c in columns]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, cells)])
