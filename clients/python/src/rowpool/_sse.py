"""Server-Sent Events, read from a stream of lines as the HTML standard describes."""

from __future__ import annotations

from typing import Iterable, Iterator, NamedTuple


class ServerEvent(NamedTuple):
    event: str
    data: str


def parse_events(lines: Iterable[str]) -> Iterator[ServerEvent]:
    """Events from the lines of a ``text/event-stream`` body; a blank line dispatches the event so far."""
    event = ""
    data: list[str] = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield ServerEvent(event or "message", "\n".join(data))
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)
