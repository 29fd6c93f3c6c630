"""A person's path in a real browser: sign in, see this host, start a check, watch it live;
all under the site's Content-Security-Policy, which the browser never has to enforce."""

from __future__ import annotations

import os
from pathlib import Path

from e2e_stack import wait_for


def csp_violations(browser) -> list[str]:
    """CSP refusals the browser logged since the last look (each one a broken page part)."""
    return [
        e["message"]
        for e in browser.console()
        if e.get("source") == "security" or "Content Security Policy" in e["message"]
    ]


def loaded_from_elsewhere(browser, site: str) -> list[str]:
    """Every URL this page fetched that is not on the site itself."""
    urls = browser.script("return performance.getEntriesByType('resource').map(e => e.name)")
    return [u for u in urls if not u.startswith(site + "/")]


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
        == "inventory"
    ), "the hosts table follows the inventory socket, it does not poll"

    browser.click(f"{row} button.start-check")
    wait_for(lambda: "/jobs/" in browser.url(), 20, "the job page to open")
    browser.wait_text("#job-state", "succeeded", timeout=90)
    output = browser.wait_text("#job-output", "all 5 checks passed")
    assert "[ok] overlay mount works" in output
    assert "[ok] OCI runtime answers" in output
    shot = Path(os.environ.get("WHARF_SCREENSHOT_DIR", stack.base)) / "job-page.png"
    browser.screenshot(shot)
    assert shot.stat().st_size > 1000

    assert csp_violations(browser) == [], "dashboard and job page run within the CSP"
    assert "csrftoken" not in browser.script("return document.cookie"), (
        "the CSRF cookie is HttpOnly"
    )
    # htmx sends the token from body's hx-headers: a POST to sign out goes through CSRF
    browser.script(
        "return htmx.ajax('POST', '/logout/', {source: document.body, swap: 'none'})"
        ".then(() => 'done')"
    )
    browser.get(stack.web_url + "/")
    assert "/login/" in browser.url(), "the htmx POST signed out: its CSRF token was accepted"


def test_the_api_docs_render_from_the_site_alone_within_the_csp(stack, browser):
    browser.get(stack.web_url + "/api/docs/")
    browser.wait_text("#swagger-ui", "/api/v1/jobs/", timeout=30)
    assert browser.script("return typeof SwaggerUIBundle") == "function"
    assert loaded_from_elsewhere(browser, stack.web_url) == []
    assert csp_violations(browser) == []


def test_the_admin_pages_run_within_the_csp(stack, browser):
    browser.get(stack.web_url + "/admin/login/")
    browser.type("#id_username", "admin")
    browser.type("#id_password", stack.password)
    browser.click("input[type=submit]")
    wait_for(lambda: "/admin/login/" not in browser.url(), 20, "the admin sign-in to finish")
    for page, wanted in [
        ("/admin/", "Site administration"),
        ("/admin/fleet/host/", stack.host_name),
        ("/admin/jobs/job/", "Select job to view"),  # records are read-only
        ("/admin/accounts/team/add/", "Add team"),
    ]:
        browser.get(stack.web_url + page)
        browser.wait_text("#content", wanted, timeout=20)
    assert loaded_from_elsewhere(browser, stack.web_url) == []
    assert csp_violations(browser) == []
