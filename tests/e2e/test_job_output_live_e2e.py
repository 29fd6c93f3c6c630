"""Live output through the real stack: uvicorn, Redis's channel layer, the host API, a real
websocket client. The test plays the host (``FakeHost``) so it decides when a job is silent."""

from __future__ import annotations

import json
import signal
import time
import uuid

import pytest
from fake_host import FakeHost
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect


@pytest.fixture(scope="module")
def host(stack):
    h = FakeHost(stack, f"fake-{uuid.uuid4().hex[:6]}")
    yield h
    h.close()


def _follow(stack, job_id: int, after: int = 0, token: str | None = None):
    url = stack.web_url.replace("http://", "ws://") + f"/ws/jobs/{job_id}/?after={after}"
    return connect(
        url,
        additional_headers={"Authorization": f"Token {token or stack.token}"},
        open_timeout=10,
        max_size=2**22,
    )


def _running_job(stack, host: FakeHost) -> int:
    with stack.api() as api:
        job_id = host.create_job(api)
    host.claim(job_id)
    return job_id


def _next(ws, wanted: str, timeout: float = 30) -> dict:
    """The next message of type WANTED (keepalives and state changes in between are skipped)."""
    while True:
        msg = json.loads(ws.recv(timeout=timeout))
        if msg["type"] == wanted:
            return msg


def test_a_socket_follows_a_job_silent_for_30_seconds_without_a_reconnect(stack, host):
    job_id = _running_job(stack, host)
    host.lines(job_id, ["before the silence"], first_seq=1)
    with _follow(stack, job_id) as ws:
        assert _next(ws, "line")["text"] == "before the silence"
        quiet_until = time.monotonic() + 30
        seen = []
        while (left := quiet_until - time.monotonic()) > 0:
            try:
                seen.append(json.loads(ws.recv(timeout=left)))
            except TimeoutError:
                break
        assert all(m["type"] != "line" for m in seen), seen
        host.lines(job_id, ["after the silence"], first_seq=2)
        line = _next(ws, "line")
        assert (line["seq"], line["text"]) == (2, "after the silence")
        host.finish(job_id)
        assert _next(ws, "state")["state"] == "succeeded"
    assert "TimeoutError" not in stack.log("web"), stack.log("web")[-3000:]


def test_ten_thousand_lines_of_one_job_arrive_once_each_in_order(stack, host):
    job_id = _running_job(stack, host)
    with _follow(stack, job_id) as ws:
        assert _next(ws, "state")["state"] == "running"
        host.lines(job_id, (f"line {i}" for i in range(1, 10_001)), first_seq=1)
        host.finish(job_id)
        lines = []
        while True:
            msg = json.loads(ws.recv(timeout=60))
            if msg["type"] == "line":
                lines.append(msg)
            elif msg["type"] == "state" and msg["state"] == "succeeded":
                break
    assert [m["seq"] for m in lines] == list(range(1, 10_001))
    assert [m["text"] for m in lines] == [f"line {i}" for i in range(1, 10_001)]


def test_a_reconnect_resumes_by_seq_without_gaps_or_repeats(stack, host):
    job_id = _running_job(stack, host)
    host.lines(job_id, (f"a{i}" for i in range(1, 51)), first_seq=1)
    with _follow(stack, job_id) as ws:
        got = [_next(ws, "line")["seq"] for _ in range(50)]
    host.lines(job_id, (f"b{i}" for i in range(51, 101)), first_seq=51)
    with _follow(stack, job_id, after=got[-1]) as ws:
        host.lines(job_id, (f"c{i}" for i in range(101, 151)), first_seq=101)
        got += [_next(ws, "line")["seq"] for _ in range(100)]
        host.finish(job_id)
        # the socket's own state message follows its catch-up, which may have held every
        # c line already: a "running" may come first, then the end
        states = [_next(ws, "state")["state"]]
        while states[-1] == "running":
            states.append(_next(ws, "state")["state"])
        assert states[-1] == "succeeded" and len(states) <= 2, states
    assert got == list(range(1, 151))


def _close_code(ws) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    return closed.value.rcvd.code


def test_close_codes_tell_a_bad_token_from_a_job_that_is_missing_or_not_yours(stack, host):
    job_id = _running_job(stack, host)  # a job of the admins team
    with _follow(stack, job_id, token="wharf_1_not-a-token") as ws:
        assert _close_code(ws) == 4401
    with _follow(stack, 999_999) as ws:
        missing = _close_code(ws)
    name = f"u{uuid.uuid4().hex[:6]}"
    stack.add_user(name, "pw-" + name)
    token = stack.manage("tokens", "create", name).strip()
    with _follow(stack, job_id, token=token) as ws:
        not_yours = _close_code(ws)
    assert missing == not_yours == 4404
    host.finish(job_id)


def test_after_redis_restarts_the_site_streams_again_at_the_first_try(stack, host):
    """A restart of Redis leaves the site's pooled connections dead: the first send on each
    must be tried again on a new one, never lose a line or fail a request."""
    job_id = _running_job(stack, host)
    redis_proc = stack.procs["redis"]
    redis_proc.send_signal(signal.SIGKILL)
    redis_proc.wait()
    stack.start_redis()
    with _follow(stack, job_id) as ws:
        assert _next(ws, "state")["state"] == "running"
        host.lines(job_id, ["after the restart"], first_seq=1)
        line = _next(ws, "line")
        assert (line["seq"], line["text"]) == (1, "after the restart")
        host.finish(job_id)
        assert _next(ws, "state")["state"] == "succeeded"
