"""Progress: one line per status change in logs, redrawn bars on a terminal."""

from __future__ import annotations

import io

from runtime.images.progress import LineProgress, Progress, TerminalProgress, human_size


def test_lines_change_only_with_the_status():
    out = io.StringIO()
    show = LineProgress(out)
    for p in [
        Progress("abc", "Downloading", 1, 10),
        Progress("abc", "Downloading", 5, 10),
        Progress("abc", "Pull complete"),
        Progress("", "Digest: sha256:x"),
    ]:
        show(p)
    assert out.getvalue().splitlines() == [
        "abc: Downloading",
        "abc: Pull complete",
        "Digest: sha256:x",
    ]


def test_terminal_redraws_bars_in_place():
    out = io.StringIO()
    show = TerminalProgress(out)
    show(Progress("aaa", "Downloading", 0, 1000))
    show(Progress("bbb", "Waiting"))
    show(Progress("aaa", "Downloading", 1000, 1000))
    text = out.getvalue()
    assert "\x1b[2A" in text  # moved up over the two item lines to redraw them
    assert "aaa: Downloading  [" + "=" * 40 + "] 1kB/1kB" in text


def test_sizes_read_like_dockers():
    assert [human_size(n) for n in (512, 2_140_160, 170_000_000)] == ["512B", "2.14MB", "170MB"]


def test_throttling_keeps_status_changes_and_drops_rapid_byte_updates():
    from runtime.images.progress import throttled

    seen: list[Progress] = []
    report = throttled(seen.append, interval=60)
    for n in range(1, 11):
        report(Progress("a", "Downloading", n, 10))
    report(Progress("a", "Pull complete"))
    assert [(p.status, p.current) for p in seen] == [
        ("Downloading", 1),
        ("Downloading", 10),
        ("Pull complete", 0),
    ]
