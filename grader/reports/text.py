"""Text helpers every report format shares: terminal escapes out, points formatted."""

from __future__ import annotations

import re

# ANSI/VT sequences (CSI, OSC terminated by BEL or ST, and two-character ESC
# sequences) are removed whole, so that no "[31m" debris is left behind.
ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


def strip_ansi(text: str) -> str:
    """``text`` without ANSI escape sequences (IPython colours tracebacks with them)."""
    return ANSI.sub("", text)


def format_points(points: float, decimals: int = 2) -> str:
    """Points with at most ``decimals`` decimals and no trailing zeros: ``10``, ``3.33``."""
    text = f"{points:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
