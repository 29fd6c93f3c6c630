"""The jobs and hosts lists follow the inventory websocket in a real browser, against the real
stack and worker: a job started through the API (a pull its registry holds half-sent) appears
on the open jobs page running, then succeeded, and a cordon made through the API shows on the hosts page, all without a reload
(a mark left on the page's window survives) and without polling."""

from __future__ import annotations

import signal
import time
import uuid

from e2e_stack import accepted, wait_for
from test_containers_browser import _text, _wait_text
from test_dashboard_browser import csp_violations
from test_inventory_browser import FakeRegistry, _layer, _sign_in

#: a mark a reload would wipe
WATCH = 'window.wharfMark = "same page";'


def _follow(browser) -> None:
    wait_for(
        lambda: browser.script("return document.body.dataset.inventoryLive") == "live",
        20,
        "the page to follow the inventory websocket",
    )
    browser.script(WATCH)


def _same_page(browser) -> bool:
    return browser.script("return window.wharfMark") == "same page"


def test_a_job_and_a_cordon_show_without_a_reload(stack, browser):
    _sign_in(stack, browser, "/jobs/")
    assert (
        browser.script("return document.getElementById('jobs-live').getAttribute('hx-trigger')")
        == "inventory"
    ), "the jobs table does not poll"
    _follow(browser)
    # a pull from a registry that holds its layer half-sent: the job stays running until released
    layer = _layer(256 * 1024)
    registry = FakeRegistry.for_layers([layer])
    digest = next(d for d, b in registry.blobs.items() if b == layer)
    registry.faults[digest] = "hold"
    reference = f"{registry.host}/e2e/live-{uuid.uuid4().hex[:6]}:1"
    try:
        with stack.api() as api:
            job = accepted(
                api.post(
                    "/api/v1/images/pull/", json={"reference": reference, "host": stack.host_name}
                )
            )["job"]
        row = f'tr.job[data-job="{job["id"]}"]'
        _wait_text(browser, row, "running", 30)
        registry.release.set()
        _wait_text(browser, row, "succeeded", 90)
    finally:
        registry.release.set()
        registry.close()
    assert _same_page(browser), "the jobs page was not reloaded"

    browser.get(stack.web_url + "/hosts/")
    _follow(browser)
    host = f'tr.host[data-host="{stack.host_name}"]'
    assert "online" in _text(browser, host)
    try:
        with stack.api() as api:
            r = api.post(f"/api/v1/hosts/{stack.host_name}/admin-state/", json={"action": "cordon"})
            assert r.status_code == 200, r.text
        _wait_text(browser, host, "cordoned", 20)
        assert _same_page(browser), "the hosts page was not reloaded"
    finally:
        with stack.api() as api:
            api.post(f"/api/v1/hosts/{stack.host_name}/admin-state/", json={"action": "uncordon"})
    _wait_text(browser, host, "online", 20)
    assert _same_page(browser)
    assert csp_violations(browser) == []


def test_a_list_reads_itself_once_when_its_socket_is_back(stack, browser):
    """What changed while the socket was down shows once it is back (no polling meanwhile)."""
    # a web process of its own, so the shared one keeps serving the other tests
    port = int(stack.start_web("web-lists").rsplit(":", 1)[1])
    url = f"http://127.0.0.1:{port}"
    browser.sign_in(url, "/hosts/", "admin", stack.password)
    _follow(browser)
    host = f'tr.host[data-host="{stack.host_name}"]'
    assert "online" in _text(browser, host)

    stack.procs.pop("web-lists").send_signal(signal.SIGKILL)
    wait_for(
        lambda: browser.script("return document.body.dataset.inventoryLive") == "away",
        20,
        "the page to see its socket gone",
    )
    try:
        with stack.api() as api:  # through the shared web process: this page misses the event
            r = api.post(f"/api/v1/hosts/{stack.host_name}/admin-state/", json={"action": "cordon"})
            assert r.status_code == 200, r.text
        time.sleep(2)
        assert "online" in _text(browser, host), "nothing polls while the socket is away"
        stack.start_web("web-lists", port)
        wait_for(
            lambda: browser.script("return document.body.dataset.inventoryLive") == "live",
            60,
            "the socket to be back (its pause doubles: 1 s, 2 s, 4 s …)",
        )
        # read at once on its return, not at the host's next heartbeat (every 10 s)
        _wait_text(browser, host, "cordoned", 3)
        assert _same_page(browser), "the hosts page was not reloaded"
    finally:
        with stack.api() as api:
            api.post(f"/api/v1/hosts/{stack.host_name}/admin-state/", json={"action": "uncordon"})
    _wait_text(browser, host, "online", 20)
