"""Line splitting with the maximum line length enforced while reading."""

from powerwatch_gateway.lines import LineSplitter
from powerwatch_gateway.validation import Reason


def test_lines_split_across_chunks_are_joined() -> None:
    splitter = LineSplitter(100)
    assert splitter.feed(b'{"a":') == ([], [])
    assert splitter.feed(b'1}\n{"b"') == ([b'{"a":1}'], [])
    assert splitter.feed(b":2}\n") == ([b'{"b":2}'], [])


def test_an_over_long_line_is_cut_at_the_limit_and_the_stream_goes_on() -> None:
    splitter = LineSplitter(10)
    lines, rejections = splitter.feed(b"ok\n" + b"x" * 25)
    assert lines == [b"ok"]
    assert [r.reason for r in rejections] == [Reason.LINE_TOO_LONG]
    assert rejections[0].raw == b"x" * 10  # bounded: only the first bytes are kept
    # the rest of the long line is skipped, even across chunks, up to its newline
    assert splitter.feed(b"y" * 1000) == ([], [])
    assert splitter.feed(b"yyy\nnext\n") == ([b"next"], [])


def test_an_over_long_line_inside_one_chunk() -> None:
    lines, rejections = LineSplitter(5).feed(b"a\n123456789\nb\n")
    assert lines == [b"a", b"b"]
    assert [r.raw for r in rejections] == [b"12345"]


def test_exactly_the_limit_is_allowed() -> None:
    assert LineSplitter(5).feed(b"12345\n") == ([b"12345"], [])


def test_stream_ending_mid_line_yields_an_incomplete_line() -> None:
    splitter = LineSplitter(100)
    splitter.feed(b'{"a":1}\n{"device_id":"x","ts":')
    tail = splitter.finish()
    assert tail is not None
    assert tail.reason is Reason.INCOMPLETE_LINE
    assert tail.raw == b'{"device_id":"x","ts":'
    assert splitter.finish() is None
