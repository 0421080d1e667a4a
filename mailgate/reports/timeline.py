"""The incident timeline as SVG: one row per incident, a bar from its start to its end (an
open one runs to the right edge), over the chosen date range with a tick per day."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

WIDTH, ROW, LABEL, TOP = 900, 30, 260, 28
OPEN, ENDED = "#cc4125", "#3b6ea8"


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.rstrip("Z")) if value else None


def timeline_svg(rows: list[dict[str, Any]], since: datetime, until: datetime) -> str:
    span = max((until - since).total_seconds(), 1.0)
    right = WIDTH - 12
    height = TOP + ROW * max(1, len(rows)) + 8

    def x(when: datetime) -> float:
        share = min(max((when - since).total_seconds() / span, 0.0), 1.0)
        return LABEL + (right - LABEL) * share

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
             f'height="{height}" role="img" aria-labelledby="timeline-title">',
             f'<title id="timeline-title">Incidents from {since:%Y-%m-%d} to {until:%Y-%m-%d}</title>',
             f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>']
    days = max(1, round(span / 86400))
    step = 1 if days <= 14 else 7 if days <= 120 else 30
    day = datetime(since.year, since.month, since.day) + timedelta(days=1)
    while day < until:
        parts.append(f'<line x1="{x(day):.1f}" y1="{TOP - 6}" x2="{x(day):.1f}" y2="{height - 4}" stroke="#e4e4e4"/>')
        parts.append(f'<text x="{x(day):.1f}" y="{TOP - 10}" text-anchor="middle" font-size="10" '
                     f'font-family="sans-serif" fill="#555555">{day:%m-%d}</text>')
        day += timedelta(days=step)
    if not rows:
        parts.append(f'<text x="{LABEL}" y="{TOP + 18}" font-size="12" font-family="sans-serif" fill="#555555">'
                     'No incidents in this range.</text>')
    for i, r in enumerate(rows):
        y = TOP + i * ROW
        start, end = _at(r["start"]) or since, _at(r["end"])
        x1, x2 = x(start), x(end or until)
        label = f"#{r['ticket']} {r['subject']}"
        label = label if len(label) <= 38 else label[:37] + "…"
        systems = ", ".join(r["systems"]) or "no systems named"
        tip = (f"#{r['ticket']} {r['subject']}: {systems}; engineer {r['owner'] or 'nobody'}; "
               f"{r['start']} to {r['end'] or 'now (open)'}")
        parts.append(f'<a href="/tickets/{r["ticket"]}"><title>{escape(tip)}</title>'
                     f'<text x="4" y="{y + 17}" font-size="12" font-family="sans-serif" fill="#1a1a1a">'
                     f'{escape(label)}</text>'
                     f'<rect class="{"open" if end is None else "ended"}" x="{x1:.1f}" y="{y + 5}" '
                     f'width="{max(x2 - x1, 3):.1f}" height="{ROW - 10}" rx="3" fill="{OPEN if end is None else ENDED}"/>'
                     '</a>')
    parts.append("</svg>")
    return "\n".join(parts)
