"""The jobs and hosts lists follow the inventory websocket in a real browser, against the real
stack and worker: a job started through the API (a pull its registry holds half-sent) appears
on the open jobs page running, then succeeded, and a cordon made through the API shows on the hosts page, all without a reload
(a mark left on the page's window survives) and without polling."""

from __future__ import annotations

import uuid

from e2e_stack import accepted, wait_for
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
        browser.wait_text(row, "running", timeout=30)
        registry.release.set()
        browser.wait_text(row, "succeeded", timeout=90)
    finally:
        registry.release.set()
        registry.close()
    assert _same_page(browser), "the jobs page was not reloaded"

    browser.get(stack.web_url + "/hosts/")
    _follow(browser)
    host = f'tr.host[data-host="{stack.host_name}"]'
    assert "online" in browser.text(host)
    try:
        with stack.api() as api:
            r = api.post(f"/api/v1/hosts/{stack.host_name}/admin-state/", json={"action": "cordon"})
            assert r.status_code == 200, r.text
        browser.wait_text(host, "cordoned", timeout=20)
        assert _same_page(browser), "the hosts page was not reloaded"
    finally:
        with stack.api() as api:
            api.post(f"/api/v1/hosts/{stack.host_name}/admin-state/", json={"action": "uncordon"})
    browser.wait_text(host, "online", timeout=20)
    assert _same_page(browser)
    assert csp_violations(browser) == []
