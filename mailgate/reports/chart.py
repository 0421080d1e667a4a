"""The monthly chart: bars of tickets created and resolved per month and a line of those
still open at each month's end. As SVG for the pages (drawn with presentation attributes
only: the pages' CSP allows no inline styles) and as a PNG for mail (Pillow), from the same
layout so the two look alike."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 36, 44
COLOURS = {"created": "#3b6ea8", "resolved": "#6aa84f", "open_at_end": "#cc4125"}
LEGEND = {"created": "created", "resolved": "resolved", "open_at_end": "open at month end"}


@dataclass(frozen=True)
class Layout:
    months: list[str]
    series: dict[str, list[int]]
    top: int  # the value at the top of the scale

    def x(self, i: int) -> float:
        return LEFT + (i + 0.5) * self.slot

    @property
    def slot(self) -> float:
        return (WIDTH - LEFT - RIGHT) / max(1, len(self.months))

    def y(self, value: float) -> float:
        return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * value / self.top

    def ticks(self) -> list[int]:
        step = max(1, _nice(self.top / 4))
        return list(range(0, self.top + 1, step))


def _nice(value: float) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, 50_000):
        if step >= value:
            return step
    return int(value)


def layout(rows: list[dict[str, Any]]) -> Layout:
    months = [r["month"] for r in rows]
    series = {k: [int(r[k]) for r in rows] for k in COLOURS}
    peak = max([1, *(v for values in series.values() for v in values)])
    step = _nice(peak / 4)
    return Layout(months, series, top=((peak + step - 1) // step) * step)


def _bars(lay: Layout) -> list[tuple[str, float, float, float, float]]:
    """(series, x, y, width, height) of each bar."""
    width = lay.slot * 0.35
    out = []
    for i in range(len(lay.months)):
        for j, key in enumerate(("created", "resolved")):
            value = lay.series[key][i]
            x = lay.x(i) - width + j * width
            out.append((key, x, lay.y(value), width - 1, lay.y(0) - lay.y(value)))
    return out


def svg(rows: list[dict[str, Any]], title: str = "Tickets per month") -> str:
    lay = layout(rows)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
             f'height="{HEIGHT}" role="img" aria-labelledby="chart-title">',
             f'<title id="chart-title">{escape(title)}</title>',
             f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>']
    for t in lay.ticks():
        y = lay.y(t)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#dddddd"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                     f'font-family="sans-serif" fill="#444444">{t}</text>')
    for key, x, y, w, h in _bars(lay):
        parts.append(f'<rect class="{key}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                     f'fill="{COLOURS[key]}"/>')
    points = " ".join(f"{lay.x(i):.1f},{lay.y(v):.1f}" for i, v in enumerate(lay.series["open_at_end"]))
    parts.append(f'<polyline class="open_at_end" points="{points}" fill="none" stroke="{COLOURS["open_at_end"]}" '
                 'stroke-width="2"/>')
    for i, m in enumerate(lay.months):
        parts.append(f'<text x="{lay.x(i):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11" '
                     f'font-family="sans-serif" fill="#444444">{escape(m)}</text>')
    x = LEFT
    for key, name in LEGEND.items():
        parts.append(f'<rect x="{x}" y="10" width="12" height="12" fill="{COLOURS[key]}"/>')
        parts.append(f'<text x="{x + 16}" y="20" font-size="12" font-family="sans-serif" '
                     f'fill="#222222">{escape(name)}</text>')
        x += 30 + 7 * len(name)
    parts.append("</svg>")
    return "\n".join(parts)


def png(rows: list[dict[str, Any]], scale: int = 2) -> bytes:
    """The same chart as a PNG (twice the size: sharp on high-density screens)."""
    from PIL import Image, ImageDraw, ImageFont

    lay = layout(rows)
    image = Image.new("RGB", (WIDTH * scale, HEIGHT * scale), "white")
    draw = ImageDraw.Draw(image)
    small, label_font = ImageFont.load_default(size=11 * scale), ImageFont.load_default(size=12 * scale)
    s = scale
    for t in lay.ticks():
        y = lay.y(t) * s
        draw.line([(LEFT * s, y), ((WIDTH - RIGHT) * s, y)], fill="#dddddd", width=1)
        draw.text(((LEFT - 6) * s, y), str(t), fill="#444444", font=small, anchor="rm")
    for key, x, y, w, h in _bars(lay):
        if h > 0:
            draw.rectangle([x * s, y * s, (x + w) * s, (y + h) * s], fill=COLOURS[key])
    points = [(lay.x(i) * s, lay.y(v) * s) for i, v in enumerate(lay.series["open_at_end"])]
    if len(points) > 1:
        draw.line(points, fill=COLOURS["open_at_end"], width=2 * s)
    for px, py in points:
        draw.ellipse([px - 3 * s, py - 3 * s, px + 3 * s, py + 3 * s], fill=COLOURS["open_at_end"])
    for i, m in enumerate(lay.months):
        draw.text((lay.x(i) * s, (HEIGHT - BOTTOM + 12) * s), m, fill="#444444", font=small, anchor="mt")
    x = LEFT
    for key, name in LEGEND.items():
        draw.rectangle([x * s, 10 * s, (x + 12) * s, 22 * s], fill=COLOURS[key])
        draw.text(((x + 16) * s, 16 * s), name, fill="#222222", font=label_font, anchor="lm")
        x += 30 + 7 * len(name)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
