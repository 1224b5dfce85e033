"""The event-stream parser, on the cases the standard spells out."""

from rowpool._sse import ServerEvent, parse_events


def test_events_are_dispatched_on_blank_lines() -> None:
    lines = [
        "event: progress",
        'data: {"rowsDone":1,"rowsTotal":4}',
        "",
        ": a comment",
        "data:first",
        "data: second",
        "",
        "event: end\r\n",
        "data: {}\r\n",
        "\r\n",
        "event: lost",
        "data: no blank line after it",
    ]
    assert list(parse_events(lines)) == [
        ServerEvent("progress", '{"rowsDone":1,"rowsTotal":4}'),
        ServerEvent("message", "first\nsecond"),
        ServerEvent("end", "{}"),
    ]


def test_an_event_without_data_is_not_dispatched() -> None:
    assert list(parse_events(["event: progress", "", "id: 3", ""])) == []
