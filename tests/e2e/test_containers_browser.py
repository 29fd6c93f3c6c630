"""A team's daily path through the containers pages in a real browser, against a real worker:
run busybox from the form, see it running in the list (the table refreshes itself), stop it
from its page and see it exited, remove it — all within the site's Content-Security-Policy."""

from __future__ import annotations

import json
import uuid

from e2e_stack import wait_for
from test_dashboard_browser import csp_violations


def _text(browser, css: str) -> str:
    """The element's text read in the page (an htmx swap may replace it between two reads)."""
    return browser.script(
        f"const e = document.querySelector({json.dumps(css)}); return e ? e.textContent : ''"
    )


def _wait_text(browser, css: str, wanted: str, timeout: float) -> str:
    return wait_for(
        lambda: wanted in (t := _text(browser, css)) and t, timeout, f"{wanted!r} in {css}", 0.3
    )


def test_run_from_the_form_see_it_running_stop_it_and_remove_it(stack, host_env, browser):
    name = f"page-{uuid.uuid4().hex[:6]}"
    browser.sign_in(stack.web_url, "/containers/new/", "admin", stack.password)

    browser.type("#id_image", "busybox")
    browser.type("#id_name", name)
    browser.type("#id_command", "sleep 1000")
    browser.type("#id_labels", "made.by=page")
    browser.script(f"document.getElementById('id_host').value = {json.dumps(stack.host_name)}")
    browser.click("#run-submit")
    wait_for(lambda: "/jobs/" in browser.url(), 20, "the run job's page")
    browser.wait_text("#job-state", "succeeded", timeout=90)

    browser.get(stack.web_url + f"/containers/?q={name}")
    row = f'tr.container[data-name="{name}"]'
    wait_for(
        lambda: browser.script("return document.body.dataset.inventoryLive") == "live",
        20,
        "the list to follow the inventory websocket",
    )
    # the record is made at once; the socket's news of the host's report refreshes the table
    assert "busybox" in _wait_text(browser, row, name, 20)
    _wait_text(browser, row, "running", 60)
    assert stack.host_name in _text(browser, row)

    browser.click(f"{row} a")
    wait_for(
        lambda: "/containers/" in browser.url() and browser.url().rstrip("/")[-1].isdigit(),
        20,
        "its page",
    )
    assert "made.by=page" in browser.text("body")
    browser.click("#action-stop")
    browser.find("p.flash.success")
    _wait_text(browser, "#state", "exited", 60)

    # back in the list, "select all" (a JS module, no inline script) and bulk start
    browser.get(stack.web_url + f"/containers/?q={name}")
    _wait_text(browser, row, "exited", 30)
    assert browser.script("return document.getElementById('bulk-start').disabled") is True
    browser.click("#select-all")
    assert _text(browser, "#selected-count") == "1 selected"
    browser.click("#bulk-start")
    wait_for(lambda: "started=" in browser.url(), 20, "the list with the jobs it started")
    assert "Start a container" in _text(browser, "#started-jobs")
    # no reload: the socket's news makes the table ask for itself well before its 30-s poll
    _wait_text(browser, row, "running", 25)
    browser.click(f"{row} a")
    browser.find("#action-remove")

    browser.click("#action-remove")
    wait_for(lambda: "/jobs/" in browser.url(), 20, "the remove job's page")
    browser.wait_text("#job-state", "succeeded", timeout=60)
    browser.get(stack.web_url + f"/containers/?q={name}")
    wait_for(lambda: name not in _text(browser, "#containers"), 60, "the list without it")
    assert csp_violations(browser) == [], "the containers pages run within the CSP"
