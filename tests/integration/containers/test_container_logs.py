"""`wharf logs`: --since, --until, --tail and --details as Docker reads them."""

from __future__ import annotations

import time


def _finished(wharf, script: str) -> str:
    cid = wharf("run", "-d", "busybox", "sh", "-c", script).stdout.strip()
    wharf("wait", cid)
    return cid


def test_since_and_until_take_the_times_logs_t_prints(wharf):
    cid = _finished(wharf, "echo a; sleep 0.3; echo b; sleep 0.3; echo c")
    stamped = wharf("logs", "-t", cid).stdout.splitlines()
    times = [line.split(" ", 1)[0] for line in stamped]
    assert [line.split(" ", 1)[1] for line in stamped] == ["a", "b", "c"]
    assert wharf("logs", "--since", times[1], cid).stdout == "b\nc\n"
    assert wharf("logs", "--until", times[1], cid).stdout == "a\nb\n"
    assert wharf("logs", "--since", times[1], "--until", times[1], cid).stdout == "b\n"
    # following stops at --until even though nothing more comes
    assert wharf("logs", "-f", "--until", times[0], cid).stdout == "a\n"


def test_since_takes_go_durations_with_fractions(wharf):
    cid = _finished(wharf, "echo old")
    time.sleep(1.6)  # the record is now more than 1.5 s old
    assert wharf("logs", "--since", "1.5s", cid).stdout == ""
    assert wharf("logs", "--since", "1500ms", cid).stdout == ""
    assert wharf("logs", "--since", "1h", cid).stdout == "old\n"


def test_details_adds_the_attribute_column(wharf):
    cid = _finished(wharf, "echo a")
    assert wharf("logs", "--details", cid).stdout == " a\n"


def test_bad_values_are_errors_not_tracebacks(wharf):
    cid = _finished(wharf, "echo a")
    for flag, value in (("--tail", "abc"), ("--since", "yesterday"), ("--until", "soon")):
        out = wharf("logs", flag, value, cid, check=False)
        assert out.returncode == 1, out.stderr
        (line,) = out.stderr.strip().splitlines()
        assert value in line and "Traceback" not in out.stderr
    assert wharf("logs", "--tail", "all", cid).stdout == "a\n"
    assert wharf("logs", "--tail", "0", cid).stdout == ""


def test_a_reader_has_what_was_written_when_it_asked_after_a_remove(rt, busybox_image):
    """A reader that asks, then reads once the container is gone (an Engine API answer
    whose body docker-py reads after its remove) still reads the log, following or not;
    a following one ends instead of failing on the vanished record."""
    from runtime.containers.model import ContainerSpec

    readers = []
    for follow in (False, True):
        c = rt.containers.create(ContainerSpec(image="busybox", cmd=["echo", "kept"]))
        rt.containers.start(c.id)
        assert rt.containers.wait(c.id, timeout=30) == 0
        readers.append(rt.containers.logs(c.id, follow=follow))
        rt.containers.remove(c.id)
    for records in readers:
        assert [(r["stream"], r["log"]) for r in records] == [("stdout", "kept\n")]
