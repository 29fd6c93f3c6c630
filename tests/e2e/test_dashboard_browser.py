"""A person's path in a real browser: sign in, see this host, start a check, watch it live."""

from __future__ import annotations

import os
from pathlib import Path

from e2e_stack import wait_for


def test_sign_in_see_the_host_and_watch_a_host_check(stack, browser):
    browser.get(stack.web_url + "/")
    assert "/login/" in browser.url(), "anonymous visitors are sent to sign in"
    browser.type("#id_username", "admin")
    browser.type("#id_password", stack.password)
    browser.click("#sign-in")

    row = f'tr.host[data-host="{stack.host_name}"]'
    host_text = browser.text(row)
    assert stack.host_name in host_text and "online" in host_text
    assert os.uname().release in host_text, "the page shows the host's true kernel"

    assert browser.script("return typeof htmx") == "object", "htmx from npm is served and loaded"
    assert (
        browser.script("return document.getElementById('hosts-live').getAttribute('hx-trigger')")
        == "every 10s"
    )

    browser.click(f"{row} button.start-check")
    wait_for(lambda: "/jobs/" in browser.url(), 20, "the job page to open")
    browser.wait_text("#job-state", "succeeded", timeout=90)
    output = browser.wait_text("#job-output", "all 5 checks passed")
    assert "[ok] overlay mount works" in output
    assert "[ok] OCI runtime answers" in output
    shot = Path(os.environ.get("WHARF_SCREENSHOT_DIR", stack.base)) / "job-page.png"
    browser.screenshot(shot)
    assert shot.stat().st_size > 1000
