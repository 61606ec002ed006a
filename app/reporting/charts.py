"""Bar charts as inline SVG, drawn on the server: no JavaScript, they print and go into
the PDF as they are. Each chart has a title and a text description for screen readers;
the same figures are always in a table next to it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

_ids = itertools.count(1)


def _figure(svg: str, caption: str | None) -> Markup:
    """The chart in a figure with a visible caption (what it shows, in which unit)."""
    if not caption:
        return Markup(svg)
    return Markup(f'<figure class="chart-figure">{svg}<figcaption>{escape(caption)}</figcaption></figure>')
BAR = "#2362a2"
BAR_ALT = ("#2362a2", "#8fb3da", "#c9c9c9")


def _fmt_int(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")


def hbar_chart(
    items: Sequence[tuple[str, int]],
    *,
    title: str,
    value_text: Callable[[int], str] = _fmt_int,
    width: int = 640,
    colors: Sequence[str] | None = None,
    caption: str | None = None,
) -> Markup:
    """Horizontal bars, one per (label, value); labels on the left, values at the bar end."""
    n = len(items)
    uid = next(_ids)
    row, top, label_w, value_w = 26, 8, 200, 110
    height = top * 2 + max(n, 1) * row
    plot_w = width - label_w - value_w
    peak = max((v for _, v in items), default=0) or 1
    desc = "; ".join(f"{label}: {value_text(v)}" for label, v in items)
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="chart{uid}-t chart{uid}-d" viewBox="0 0 {width} {height}"'
        f' width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"'
        f' font-family="DejaVu Sans, Roboto, sans-serif" font-size="12">',
        f'<title id="chart{uid}-t">{escape(title)}</title><desc id="chart{uid}-d">{escape(desc)}</desc>',
    ]
    for i, (label, value) in enumerate(items):
        y = top + i * row
        w = round(plot_w * max(value, 0) / peak)
        color = (colors or [BAR])[i % len(colors or [BAR])]
        short = label if len(label) <= 30 else label[:29] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" fill="#262626">{escape(short)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{max(w, 1)}" height="{row - 8}" fill="{color}"/>'
            f'<text x="{label_w + w + 6}" y="{y + 17}" fill="#262626">{escape(value_text(value))}</text>'
        )
    parts.append("</svg>")
    return _figure("".join(parts), caption)


def column_chart(
    items: Sequence[tuple[str, int]],
    *,
    title: str,
    value_text: Callable[[int], str] = _fmt_int,
    width: int = 640,
    height: int = 240,
    caption: str | None = None,
) -> Markup:
    """Vertical columns (e.g. the twelve months), short labels under them."""
    uid = next(_ids)
    n = max(len(items), 1)
    top, bottom, left = 22, 26, 8
    slot = (width - 2 * left) / n
    plot_h = height - top - bottom
    peak = max((v for _, v in items), default=0) or 1
    desc = "; ".join(f"{label}: {value_text(v)}" for label, v in items)
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="chart{uid}-t chart{uid}-d" viewBox="0 0 {width} {height}"'
        f' width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"'
        f' font-family="DejaVu Sans, Roboto, sans-serif" font-size="11">',
        f'<title id="chart{uid}-t">{escape(title)}</title><desc id="chart{uid}-d">{escape(desc)}</desc>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - left}" y2="{top + plot_h}" stroke="#8a8a8a"/>',
    ]
    for i, (label, value) in enumerate(items):
        h = round(plot_h * max(value, 0) / peak)
        x = left + i * slot
        cx = x + slot / 2
        parts.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{top + plot_h - h}" width="{slot * 0.7:.1f}" height="{max(h, 1)}"'
            f' fill="{BAR}"/>'
            f'<text x="{cx:.1f}" y="{top + plot_h - h - 5}" text-anchor="middle" fill="#262626">'
            f"{escape(value_text(value))}</text>"
            f'<text x="{cx:.1f}" y="{height - 8}" text-anchor="middle" fill="#262626">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return _figure("".join(parts), caption)
