"""Draw a :class:`grader.model.Figure` as an inline SVG element, with the standard library only.

The grader draws its figures itself rather than with matplotlib: the page
stays small, the output is deterministic (golden-file friendly), nothing heavy
is imported to write a report, and every string placed in the SVG goes through
one escape function. Each curve is a ``<path class="series ...">`` with its
label in ``data-label``; each marker a ``<circle class="marker ...">``.

The reference is drawn as a wide pale band and the student's curve as a thin
line of the same colour on top, so a correct function lies inside its band.
The y range follows the reference when there is one, so that a student's
curve that shoots off to 1e30 is clipped at the plot's edge instead of
flattening everything else.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence

from grader.model import Figure, Series
from grader.reports.text import strip_ansi

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 72
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
# Controls (tab and newline aside), DEL, C1 and lone surrogates: none belongs in an SVG text node.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean(text: str, limit: int | None = None) -> str:
    """Student-derived ``text`` made safe for HTML and SVG: no escapes or controls, cut, entity-escaped."""
    text = _UNSAFE.sub("", strip_ansi(text))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=True)


def figure_to_svg(figure: Figure, element_id: str) -> str:
    """The figure as an ``<svg>`` element (no XML declaration: it is inlined in HTML)."""
    x_lo, x_hi = _x_range(figure.x)
    y_lo, y_hi = _y_range(figure)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x_lo) / (x_hi - x_lo) * plot_w

    def py(y: float) -> float:
        # Clamped well outside the plot so huge values stay valid numbers; the clip path cuts them.
        value = TOP + (y_hi - y) / (y_hi - y_lo) * plot_h
        return min(max(value, -10 * HEIGHT), 11 * HEIGHT)

    clip = f"{element_id}-clip"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="figure" id="{element_id}" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" aria-label="{clean(figure.title)}">',
        f"<title>{clean(figure.title)}</title>",
        f'<defs><clipPath id="{clip}"><rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}"/>'
        "</clipPath></defs>",
        f'<rect class="plot-area" x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#999"/>',
    ]
    for tick in _ticks(x_lo, x_hi):
        x = px(tick)
        parts.append(f'<line class="grid" x1="{x:.2f}" y1="{TOP}" x2="{x:.2f}" y2="{TOP + plot_h}" stroke="#eee"/>')
        parts.append(f'<text class="tick" x="{x:.2f}" y="{TOP + plot_h + 16}" text-anchor="middle">'
                     f"{_tick_label(tick)}</text>")
    for tick in _ticks(y_lo, y_hi):
        y = py(tick)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.2f}" x2="{LEFT + plot_w}" y2="{y:.2f}" stroke="#eee"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.2f}" text-anchor="end">{_tick_label(tick)}</text>')
    parts.append(f'<text class="axis-label" x="{LEFT + plot_w / 2:.2f}" y="{TOP + plot_h + 34}" '
                 f'text-anchor="middle">{clean(figure.xlabel, 80)}</text>')
    if figure.ylabel:
        parts.append(f'<text class="axis-label" x="14" y="{TOP + plot_h / 2:.2f}" text-anchor="middle" '
                     f'transform="rotate(-90 14 {TOP + plot_h / 2:.2f})">{clean(figure.ylabel, 80)}</text>')

    colours = _colours(figure.series)
    parts.append(f'<g clip-path="url(#{clip})">')
    # References first, underneath the student's curves.
    for series in sorted(figure.series, key=lambda s: s.role != "reference"):
        d = " ".join(
            f"{'M' if start else 'L'}{px(x):.2f},{py(y):.2f}" for x, y, start in _segments(figure.x, series.y)
        )
        style = ('stroke-width="7" stroke-opacity="0.25" stroke-linecap="round" stroke-linejoin="round"'
                 if series.role == "reference" else 'stroke-width="1.8"')
        parts.append(f'<path class="series {series.role}" data-label="{clean(series.label, 120)}" d="{d}" '
                     f'fill="none" stroke="{colours[_function(series)]}" {style}/>')
    for marker in figure.markers:
        colour = colours.get(marker.label.split(" of ")[-1].split(" ")[0], "#333")
        x, y = px(marker.x), py(marker.y)
        tip = f"<title>{clean(marker.label, 120)}: x = {marker.x:.5g}, y = {marker.y:.5g}</title>"
        if marker.role == "reference":
            parts.append(f'<circle class="marker reference" cx="{x:.2f}" cy="{y:.2f}" r="7" fill="none" '
                         f'stroke="{colour}" stroke-width="2">{tip}</circle>')
        else:
            parts.append(f'<circle class="marker student" cx="{x:.2f}" cy="{y:.2f}" r="3.5" fill="{colour}">'
                         f"{tip}</circle>")
    parts.append("</g>")
    parts += _legend(figure.series, colours, TOP + plot_h + 50)
    parts.append("</svg>")
    return "\n".join(parts)


def _legend(series: Sequence[Series], colours: dict[str, str], y: float) -> list[str]:
    """One row of legend entries under the plot."""
    parts, x = [], float(LEFT)
    for s in series:
        colour = colours[_function(s)]
        width = 'stroke-width="7" stroke-opacity="0.25"' if s.role == "reference" else 'stroke-width="1.8"'
        parts.append(f'<line class="legend" x1="{x:.1f}" y1="{y - 4}" x2="{x + 22:.1f}" y2="{y - 4}" '
                     f'stroke="{colour}" {width}/>')
        label = clean(s.label, 40)
        parts.append(f'<text class="legend" x="{x + 28:.1f}" y="{y}">{label}</text>')
        x += 40 + 7 * len(s.label[:40])
    return parts


def _function(series: Series) -> str:
    """The function a series draws: its label's first word (``"f (yours)"`` -> ``"f"``)."""
    return series.label.split(" ")[0]


def _colours(series: Sequence[Series]) -> dict[str, str]:
    """One colour per function, shared by its reference and its student curve."""
    colours: dict[str, str] = {}
    for s in series:
        colours.setdefault(_function(s), PALETTE[len(colours) % len(PALETTE)])
    return colours


def _segments(xs: Sequence[float], ys: Sequence[float | None]) -> list[tuple[float, float, bool]]:
    """The drawable points, each flagged when it starts a new piece (after a gap)."""
    out, gap = [], True
    for x, y in zip(xs, ys, strict=False):
        if y is None:
            gap = True
            continue
        out.append((x, y, gap))
        gap = False
    return out


def _x_range(xs: Sequence[float]) -> tuple[float, float]:
    lo, hi = (min(xs), max(xs)) if xs else (0.0, 1.0)
    return (lo - 0.5, hi + 0.5) if hi <= lo else (lo, hi)


def _y_range(figure: Figure) -> tuple[float, float]:
    """The y range: every finite value, but at most one reference span beyond the reference."""
    def values(role: str | None) -> list[float]:
        return [y for s in figure.series if role is None or s.role == role for y in s.y if y is not None]

    every = values(None) + [m.y for m in figure.markers]
    if not every:
        return -1.0, 1.0
    lo, hi = min(every), max(every)
    reference = values("reference")
    if reference:
        ref_lo, ref_hi = min(reference), max(reference)
        span = max(ref_hi - ref_lo, 1e-9)
        lo, hi = max(lo, ref_lo - span), min(hi, ref_hi + span)
    if hi - lo < 1e-12 * max(1.0, abs(hi)):
        lo, hi = lo - 1.0, hi + 1.0
    pad = 0.06 * (hi - lo)
    return lo - pad, hi + pad


def _ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) inside ``[lo, hi]``."""
    raw = (hi - lo) / target
    if not (math.isfinite(raw) and raw > 0):
        return []
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step)
    return [k * step for k in range(first, math.floor(hi / step) + 1)]


def _tick_label(value: float) -> str:
    text = f"{value:.6g}"
    return "0" if text in ("-0", "0") else text.replace("-", "−")
