"""What a GitHub Actions runner acts on in a step's log: its workflow-command parser, for the tests.

Follows actions/runner's ``ActionCommandManager``: a line is a command when,
after leading blanks, it starts ``::NAME [k=v,...]::DATA`` (v2), or holds
``##[NAME k=v;...]DATA`` anywhere (v1); names are compared without case, only
registered names count, properties and data are percent-unescaped. After
``::stop-commands::TOKEN`` every command is ignored until one named TOKEN.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

REGISTERED = {"add-mask", "add-matcher", "remove-matcher", "debug", "notice", "warning", "error", "group",
              "endgroup", "echo", "save-state", "set-output", "set-env", "add-path", "stop-commands"}


@dataclass(frozen=True)
class Command:
    """One workflow command the runner carried out."""

    name: str
    properties: dict[str, str] = field(default_factory=dict)
    data: str = ""


def unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    return (text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",")
            .replace("%25", "%"))


def _parse(line: str, registered: set[str]) -> Command | None:
    stripped = line.lstrip()
    if stripped.startswith("::"):
        end = stripped.find("::", 2)
        if end >= 0:
            info, data = stripped[2:end], stripped[end + 2:]
            name, _, props = info.partition(" ")
            if name.lower() in registered:
                properties = {}
                for pair in filter(None, props.split(",")):
                    key, sep, value = pair.partition("=")
                    if sep:
                        properties[key] = unescape_property(value)
                return Command(name.lower(), properties, unescape_data(data))
    start = line.find("##[")
    if start >= 0:
        close = line.find("]", start)
        if close >= 0:
            info = line[start + 3:close]
            name = info.split(" ", 1)[0]
            if name.lower() in registered:
                return Command(name.lower(), {}, line[close + 1:])
    return None


def acted_on(lines: Iterable[str]) -> list[Command]:
    """The commands a runner carries out for these log lines (``stop-commands`` and its resume included)."""
    registered = set(REGISTERED)
    stop_token: str | None = None
    acted = []
    for raw in lines:
        for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            command = _parse(line, registered)
            if command is None:
                continue
            if stop_token is not None:
                if command.name == stop_token:
                    registered.discard(stop_token)
                    stop_token = None
                    acted.append(command)
                continue
            if command.name == "stop-commands" and command.data:
                stop_token = command.data.lower()
                registered.add(stop_token)
            acted.append(command)
    return acted
