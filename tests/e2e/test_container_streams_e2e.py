"""A container's live streams through the real stack: the site asks the host by a signed
request on its own list, the host's worker dials out with its credential, and the site pairs
the two sockets through Redis. Logs over REST and a websocket, stats samples, an interactive
shell; and the attacks: another team's container, an anonymous socket, a forged stream id,
a forged request."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from e2e_stack import wait_for
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

TICKER = "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.3; done"


def _socket(stack, path: str, token: str | None = None, headers: dict | None = None):
    url = stack.web_url.replace("http://", "ws://") + path
    if headers is None:
        headers = {"Authorization": f"Token {token or stack.token}"}
    return connect(url, additional_headers=headers, open_timeout=10, max_size=2**22)


def _close_code(ws, timeout: float = 30) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=timeout)
    return closed.value.rcvd.code


def _messages(ws, wanted: str, timeout: float = 30):
    """Yield the JSON messages of type WANTED (others skipped)."""
    while True:
        message = ws.recv(timeout=timeout)
        if isinstance(message, str) and (m := json.loads(message))["type"] == wanted:
            yield m


@pytest.fixture(scope="module")
def ticker(stack, host_env):
    """A running container of the admins' team that writes a numbered line every 0.3 s."""
    with stack.running("ticker", ["sh", "-c", TICKER]) as made:
        yield made["container"]["id"]


@pytest.fixture(scope="module")
def stranger(stack):
    name = f"u{uuid.uuid4().hex[:6]}"
    stack.add_user(name, "pw-" + name)
    return stack.manage("tokens", "create", name).strip()


def _numbers(lines: list[dict]) -> list[int]:
    return [int(line["text"].split()[1]) for line in lines]


def test_logs_over_rest_are_the_hosts_last_lines(stack, ticker):
    with stack.api() as api:
        wait_for(
            lambda: len(api.get(f"/api/v1/containers/{ticker}/logs/").json()["lines"]) >= 5,
            30,
            "five lines",
        )
        body = api.get(f"/api/v1/containers/{ticker}/logs/?tail=3").json()
        assert len(body["lines"]) == 3 and body["truncated"] is False
        numbers = _numbers(body["lines"])
        assert numbers == list(range(numbers[0], numbers[0] + 3))
        assert {line["stream"] for line in body["lines"]} == {"stdout"}
        text = api.get(f"/api/v1/containers/{ticker}/logs/?tail=2&download=1")
        assert text.headers["content-type"].startswith("text/plain")
        assert "attachment" in text.headers["content-disposition"]
        assert [ln.split()[0] for ln in text.text.splitlines()] == ["line", "line"]
        bad = api.get(f"/api/v1/containers/{ticker}/logs/?tail=1e5")
        assert bad.status_code == 400 and "tail" in bad.json()


def test_a_logs_socket_follows_new_lines(stack, ticker):
    with _socket(stack, f"/ws/containers/{ticker}/logs/?tail=2") as ws:
        seen: list[int] = []
        for message in _messages(ws, "logs"):
            seen += _numbers(message["lines"])
            if len(seen) >= 6:
                break
    assert seen == list(range(seen[0], seen[0] + len(seen))), "in order, none lost"


def test_stats_samples_move(stack, ticker):
    samples = []
    with _socket(stack, f"/ws/containers/{ticker}/stats/") as ws:
        for sample in _messages(ws, "stats"):
            samples.append(sample)
            if len(samples) == 4:
                break
    assert [s["time"] for s in samples] == sorted(s["time"] for s in samples)
    assert all(s["memory_usage"] > 0 and s["pids"] >= 1 for s in samples)
    assert {"cpu_percent", "net_rx", "net_tx", "blkio_read", "blkio_write"} <= set(samples[0])
    moving = {(s["cpu_percent"], s["memory_usage"], s["pids"]) for s in samples}
    assert len(moving) > 1, samples


def test_an_exec_console_runs_a_shell_and_ends_with_its_exit_code(stack, ticker):
    with _socket(stack, f"/ws/containers/{ticker}/exec/?cols=100&rows=30") as ws:
        ws.send(b"echo hi; stty size\n")
        out = b""
        while b"hi\r\n" not in out or b"30 100" not in out:
            message = ws.recv(timeout=30)
            if isinstance(message, bytes):
                out += message
        ws.send(json.dumps({"type": "resize", "cols": 120, "rows": 40}))
        ws.send(json.dumps({"type": "input", "data": "stty size\n"}))
        while b"40 120" not in out:
            message = ws.recv(timeout=30)
            if isinstance(message, bytes):
                out += message
        ws.send(b"exit 3\n")
        assert next(_messages(ws, "exit"))["code"] == 3
        assert _close_code(ws) == 1000


def test_another_teams_container_is_not_found_everywhere(stack, ticker, stranger):
    with stack.session() as client:
        r = client.get(
            f"/api/v1/containers/{ticker}/logs/", headers={"Authorization": f"Token {stranger}"}
        )
    assert r.status_code == 404
    for kind in ("logs", "stats", "exec"):
        with _socket(stack, f"/ws/containers/{ticker}/{kind}/", token=stranger) as ws:
            assert _close_code(ws) == 4404, kind
        with _socket(stack, f"/ws/containers/{ticker}/{kind}/", headers={}) as ws:
            assert _close_code(ws) == 4401, kind
    with _socket(stack, "/ws/containers/999999/logs/") as ws:
        assert _close_code(ws) == 4404


def test_a_forged_stream_id_or_request_is_refused(stack, ticker, host_env):
    credential = json.loads(Path(host_env["WHARF_HOST_CONFIG"]).read_text())["credential"]
    host_headers = {"Authorization": f"Host {credential}"}
    with _socket(stack, f"/ws/host/streams/{'A' * 32}/", headers=host_headers) as ws:
        assert _close_code(ws) == 4404
    with _socket(stack, "/ws/host/streams/x/", headers={"Authorization": "Host 1.nope"}) as ws:
        assert _close_code(ws) == 4401
    # a request pushed to the host's list by anyone but the site: the worker refuses it
    forged = {
        "v": 1,
        "type": "stream",
        "stream": "forged",
        "host": stack.host_name,
        "kind": "exec",
        "container": "x",
        "params": {},
        "expires": 9999999999,
        "sig": "AAAA",
    }
    stack.redis().lpush(f"wharf:host.{stack.host_name}:streams", json.dumps(forged))
    wait_for(
        lambda: "refusing a stream request: the message's signature" in stack.log("worker"),
        20,
        "the worker to refuse the forged request",
    )
