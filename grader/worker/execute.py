"""Running notebook cells with IPython semantics and capped output capture."""

from __future__ import annotations

import codecs
import io
import os
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from IPython.core.events import EventManager
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.text import LSString, SList
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
    """IPython's shell with GUI event loops disabled (``%matplotlib inline`` works headless) and shell lines
    (``!cmd``, ``x = !cmd``) run through pipes.

    IPython runs shell lines in a pseudo-terminal (pexpect), and the sandbox
    has none: a ``!pip install ...`` line failed with "out of pty devices" and
    stopped its cell, so a function defined below it was lost. Jupyter runs it,
    whatever its exit status, and so does this shell.
    """

    def enable_gui(self, gui: str | None = None) -> None:
        """No event loop to integrate with: figures are drawn off screen."""

    def system(self, cmd: str) -> None:
        """``!cmd``: its output goes to the cell's; its exit status to ``_exit_code``, as in IPython."""
        _no_background(cmd)
        status = run_shell_line(self.var_expand(cmd, depth=1), sys.stdout)  # type: ignore[no-untyped-call,unused-ignore]
        self._exited(cmd, status)

    def getoutput(self, cmd: str, split: bool = True, depth: int = 0) -> SList | LSString:
        """``x = !cmd`` and ``!!cmd``: the output (stdout and stderr) as IPython's list of lines, or string."""
        out = io.StringIO()
        _no_background(cmd)
        status = run_shell_line(self.var_expand(cmd, depth=depth + 1), out)  # type: ignore[no-untyped-call,unused-ignore]
        if self.system_raise_on_error:  # as IPython, which records the status then only
            self._exited(cmd, status)
        return SList(out.getvalue().splitlines()) if split else LSString(out.getvalue())

    def _exited(self, cmd: str, status: int) -> None:
        self.user_ns["_exit_code"] = status
        if self.system_raise_on_error and status != 0:
            raise subprocess.CalledProcessError(status, cmd)

    def init_events(self) -> None:
        super().init_events()  # type: ignore[no-untyped-call,unused-ignore]
        events = _NoRedrawEvents(self, list(self.events.callbacks))  # type: ignore[no-untyped-call,unused-ignore]
        events.callbacks = self.events.callbacks
        self.events = events


def _no_background(cmd: str) -> None:
    if cmd.rstrip().endswith("&"):  # as IPython: the cell could not read its output
        raise OSError("Background processes not supported.")


def run_shell_line(command: str, out: TextIO) -> int:
    """Run ``command`` with ``/bin/sh``, no input, its output and errors into ``out`` as they come; its exit status.

    An interruption (the cell's time limit) kills the shell on its way out.
    What the command started stays in the worker's process group, to be
    stopped with the worker.
    """
    process = subprocess.Popen(command, shell=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    assert process.stdout is not None
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        with process.stdout:
            while chunk := os.read(process.stdout.fileno(), 65536):
                out.write(decoder.decode(chunk))
        out.write(decoder.decode(b"", final=True))
        return process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            process.wait()


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
