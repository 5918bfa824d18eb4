"""Running notebook cells with IPython semantics and capped output capture."""

from __future__ import annotations

import io
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from IPython.core.events import EventManager
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config


class CappedWriter(io.TextIOBase):
    """A text stream that keeps at most ``limit`` characters and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def take(self) -> str:
        """The text kept since the last call, with a note of what was dropped."""
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n[... {self.dropped} more characters of output not kept]"
        self.parts, self.kept, self.dropped = [], 0, 0
        return text


@dataclass(frozen=True)
class CellRun:
    """What running one cell did."""

    ok: bool
    output: str
    ename: str = ""
    evalue: str = ""
    traceback: str = ""


class _NoRedrawEvents(EventManager):
    """IPython's events without matplotlib's redraw of every open figure after each cell.

    Nothing here shows a figure, and that redraw costs about 0.1 s per figure.
    The inline backend still closes a cell's figures at its end, as in Jupyter,
    and a student's own ``draw()`` or ``savefig`` still draws.
    """

    def register(self, event: str, function: Callable[..., Any]) -> None:
        if (event == "post_execute" and getattr(function, "__module__", "") == "matplotlib.pyplot"
                and getattr(function, "__name__", "") == "_draw_all_if_interactive"):
            return
        super().register(event, function)  # type: ignore[no-untyped-call,unused-ignore]


class WorkerShell(InteractiveShell):
    """IPython's shell with GUI event loops disabled: ``%matplotlib inline`` works headless."""

    def enable_gui(self, gui: str | None = None) -> None:
        """No event loop to integrate with: figures are drawn off screen."""

    def init_events(self) -> None:
        super().init_events()  # type: ignore[no-untyped-call,unused-ignore]
        events = _NoRedrawEvents(self, list(self.events.callbacks))  # type: ignore[no-untyped-call,unused-ignore]
        events.callbacks = self.events.callbacks
        self.events = events


def make_shell() -> InteractiveShell:
    """An IPython shell without history, colours or a terminal."""
    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    config.InteractiveShell.xmode = "Plain"
    shell = WorkerShell.instance(config=config)
    shell.user_ns["__name__"] = "__main__"
    # Nothing displays rich output here: skip rendering every figure to PNG.
    if shell.display_formatter is not None:
        shell.display_formatter.active_types = ["text/plain"]
    return shell


def run_cell(shell: InteractiveShell, source: str, out: CappedWriter) -> CellRun:
    """Run one cell's source in the shell, capturing its output into ``out``."""
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    try:
        result = shell.run_cell(source, store_history=False, silent=False)  # type: ignore[no-untyped-call,unused-ignore]
    finally:
        sys.stdout, sys.stderr = saved
    error = result.error_before_exec or result.error_in_exec
    output = out.take()
    if error is None:
        return CellRun(ok=True, output=output)
    return CellRun(False, output, type(error).__name__, error_text(error), student_traceback(error))


def student_traceback(error: BaseException, limit: int = 20_000) -> str:
    """The traceback of an error, without the frames of IPython and the worker."""
    frames = [
        f for f in traceback.extract_tb(error.__traceback__)
        if "/IPython/" not in f.filename and "/grader/worker/" not in f.filename
    ]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(error), error)
    text = "".join(lines)
    return text if len(text) <= limit else text[:limit] + "\n[... traceback truncated]"


def error_text(error: BaseException, limit: int = 2000) -> str:
    """The message of an error, bounded, even if printing it fails."""
    try:
        text = str(error)
    except BaseException:  # noqa: BLE001 - a student's exception may fail to print
        text = "<unprintable>"
    return text if len(text) <= limit else text[:limit] + "..."
