"""A page from another port of the same host cannot read a job's output with the visitor's
cookie: the real server checks the websocket Origin's scheme, host and port."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from e2e_stack import free_port, wait_for
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

SECRET = "secret line of the admins team"


@pytest.fixture(scope="module")
def job_id(stack) -> int:
    return stack.add_job(SECRET)


@pytest.fixture(scope="module")
def session_cookie(stack) -> str:
    with stack.session() as client:
        r = stack.sign_in(client, "admin", stack.password)
        assert r.status_code == 302, r.text[:300]
        return f"sessionid={client.cookies['sessionid']}"


def _ws_url(stack, job_id: int) -> str:
    return stack.web_url.replace("http://", "ws://") + f"/ws/jobs/{job_id}/"


def _refused(url: str, **kwargs) -> int:
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=10, **kwargs)
    return refused.value.response.status_code


def test_the_sites_own_origin_with_the_cookie_reads_the_output(stack, job_id, session_cookie):
    with connect(
        _ws_url(stack, job_id),
        origin=stack.web_url,
        additional_headers={"Cookie": session_cookie},
        open_timeout=10,
    ) as ws:
        assert json.loads(ws.recv(timeout=10))["text"] == SECRET


def test_other_origins_with_the_cookie_are_refused(stack, job_id, session_cookie):
    port = int(stack.web_url.rsplit(":", 1)[1])
    other = free_port()
    for origin in (
        f"http://127.0.0.1:{other}",  # another port of this host: a container's published port
        f"http://localhost:{port}",  # another host name of the same machine
        f"https://127.0.0.1:{port}",  # another scheme
        "http://127.0.0.1",  # the default port
        "null",  # a sandboxed frame or a file
    ):
        status = _refused(
            _ws_url(stack, job_id), origin=origin, additional_headers={"Cookie": session_cookie}
        )
        assert status == 403, origin


def test_a_cookie_without_any_origin_is_refused(stack, job_id, session_cookie):
    assert _refused(_ws_url(stack, job_id), additional_headers={"Cookie": session_cookie}) == 403


def test_a_token_client_without_cookies_needs_no_origin(stack, job_id):
    with connect(
        _ws_url(stack, job_id),
        additional_headers={"Authorization": f"Token {stack.token}"},
        open_timeout=10,
    ) as ws:
        assert json.loads(ws.recv(timeout=10))["text"] == SECRET


ATTACK_PAGE = """<!doctype html><title>pending</title><pre id="out"></pre><script>
const ws = new WebSocket("{ws_url}");
ws.onmessage = (e) => {{ document.getElementById("out").textContent += e.data; document.title = "read"; }};
ws.onclose = (e) => {{ if (document.title === "pending") document.title = "refused " + e.code; }};
</script>"""


@pytest.fixture
def attacker_page(stack, job_id) -> Iterator[str]:
    """A page served from another port of 127.0.0.1 that tries to read the job's output."""
    page = ATTACK_PAGE.format(ws_url=_ws_url(stack, job_id)).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_page_on_another_port_cannot_read_the_signed_in_visitors_jobs(
    stack, browser, attacker_page
):
    browser.get(stack.web_url + "/login/")
    browser.type("#id_username", "admin")
    browser.type("#id_password", stack.password)
    browser.click("#sign-in")
    wait_for(lambda: "/login/" not in browser.url(), 20, "the sign-in to finish")

    browser.get(attacker_page)
    title = wait_for(
        lambda: (t := browser.script("return document.title")) != "pending" and t,
        20,
        "the attacker page's websocket to open or fail",
    )
    assert title.startswith("refused"), f"the foreign page read the output: {title}"
    assert SECRET not in browser.text("#out")
