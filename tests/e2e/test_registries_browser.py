"""The registries page in a real browser, against the real stack: reached from the nav, a
registry added with the keyboard alone (Enter sends the form), listed, and its page's form
opened with the credentials' fields empty (the password is write-only); within the CSP."""

from __future__ import annotations

import uuid

from e2e_stack import wait_for
from test_dashboard_browser import csp_violations
from test_inventory_browser import _sign_in

ENTER = "\ue007"
SECRET = "e2e-secret-never-shown"


def _shows(browser, text: str) -> None:
    """Wait for TEXT on the page (read by script: the page may be changing under the driver)."""
    wait_for(
        lambda: text in (browser.script("return document.body.innerText") or ""), 20, repr(text)
    )


def test_add_a_registry_see_it_listed_and_the_password_empty_on_edit(stack, browser, shots):
    _sign_in(stack, browser, "/jobs/")
    browser.click('nav[aria-label="main"] a[href="/registries/"]')
    browser.wait_text("main h1", "Registries", timeout=20)
    name = f"hub-{uuid.uuid4().hex[:6]}"
    browser.type("#id_name", name)
    browser.type("#id_host", "registry.example.com:5000")
    browser.type("#id_username", "e2e-user")
    browser.type("#id_password", SECRET + ENTER)  # the keyboard sends the form
    row = f'tr.registry[data-name="{name}"]'
    _shows(browser, f"Added registry {name}")
    assert "stored" in browser.text(row) and "registry.example.com:5000" in browser.text(row)
    browser.screenshot(shots / "registries-list.png")

    browser.click(f"{row} a")
    browser.find("#registry-form")
    assert browser.script("return document.getElementById('id_password').value") == ""
    assert browser.script("return document.getElementById('id_username').value") == ""
    assert SECRET not in browser.script("return document.documentElement.outerHTML")
    assert "e2e-user" not in browser.script("return document.documentElement.outerHTML")
    assert "stored" in browser.text("#credentials-state")

    # a change that leaves the credentials blank keeps them
    browser.script("document.getElementById('id_name').value = ''")
    browser.type("#id_name", name + "-2" + ENTER)
    _shows(browser, f"Saved registry {name}-2")
    assert "stored" in browser.text("#credentials-state")
    assert csp_violations(browser) == []

    browser.script("window.confirm = () => true")  # the removal asks first
    browser.click("#registry-remove")
    _shows(browser, f"Removed registry {name}-2")
