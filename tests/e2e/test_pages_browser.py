"""What a person meets in a real browser when the site goes away or the session ends:
a live view that comes back at once after drops, an ended session that leads to sign-in
and back to the page, a stale tab's form that explains itself instead of Django's page."""

from __future__ import annotations

import signal
import uuid

import pytest
from e2e_stack import wait_for
from fake_host import FakeHost


@pytest.fixture(scope="module")
def host(stack):
    h = FakeHost(stack, f"fake-{uuid.uuid4().hex[:6]}")
    yield h
    h.close()


def _sign_in(browser, stack, base_url: str, path: str = "/") -> None:
    browser.sign_in(base_url, path, "admin", stack.password)


def _reconnect_delay(browser) -> int:
    return int(browser.script("return document.body.dataset.reconnectDelay || '0'"))


def test_a_live_view_is_back_at_once_after_the_site_dropped_it_twice(stack, host, browser):
    # a web process of its own, so the shared one keeps serving the other tests
    port = int(stack.start_web("web-drops").rsplit(":", 1)[1])
    url = f"http://127.0.0.1:{port}"
    with stack.api() as api:
        job_id = host.create_job(api)
    host.claim(job_id)
    _sign_in(browser, stack, url, f"/jobs/{job_id}/")
    browser.wait_text("#job-live", "live", timeout=20)

    stack.procs.pop("web-drops").send_signal(signal.SIGKILL)
    wait_for(lambda: _reconnect_delay(browser) >= 2000, 30, "the page to back off (doubling)")
    stack.start_web("web-drops", port)
    wait_for(
        lambda: _reconnect_delay(browser) == 500 and browser.text("#job-live") == "live",
        60,
        "the delay to go back to its first value once the connection held",
    )
    host.lines(job_id, ["after the drops"], first_seq=1)
    assert "after the drops" in browser.wait_text("#job-output", "after the drops", timeout=20)
    host.finish(job_id)
    browser.wait_text("#job-state", "succeeded", timeout=20)


def test_an_ended_session_takes_the_dashboard_to_sign_in_and_back(stack, browser):
    _sign_in(browser, stack, stack.web_url)
    browser.find("#hosts-live tr.host")
    stack.manage(
        "shell",
        "-c",
        "from django.contrib.sessions.models import Session; Session.objects.all().delete()",
    )
    # the hosts table is read again at the host's next heartbeat (the inventory socket): its
    # answer must take the tab to sign in, not be swapped into the dashboard
    wait_for(
        lambda: "/login/" in browser.url(), 30, "the table's answer to lead the tab to sign in"
    )
    assert "next=%2F" in browser.url(), browser.url()
    browser.type("#id_username", "admin")
    browser.type("#id_password", stack.password)
    browser.click("#sign-in")
    wait_for(lambda: browser.url().rstrip("/") == stack.web_url, 20, "the dashboard again")
    assert stack.host_name in browser.text("#hosts-live")


def test_a_stale_tabs_form_explains_itself_and_leads_back(stack, browser):
    _sign_in(browser, stack, stack.web_url)
    browser.find("#hosts-live tr.host")
    # the person signs in again in another tab: a new CSRF secret, this tab's forms are stale
    answer = browser.script(
        """
        return (async () => {
        const page = await (await fetch('/login/')).text();
        const token = page.match(/name="csrfmiddlewaretoken" value="([^"]+)"/)[1];
        const body = new URLSearchParams({csrfmiddlewaretoken: token, username: 'admin',
                                          password: arguments[0]});
        const r = await fetch('/login/', {method: 'POST', body, redirect: 'manual'});
        return r.type;
        })();
        """.replace("arguments[0]", repr(stack.password))
    )
    assert answer == "opaqueredirect", "the other tab's sign-in went through"
    browser.click("header nav form button")  # this tab's "Sign out", with its stale token
    text = browser.wait_text("#csrf-failure", "This form has expired", timeout=20)
    assert "Nothing was changed" in text
    assert "CSRF verification failed" not in browser.text("body")
    browser.click("#go-back")
    wait_for(lambda: browser.url().rstrip("/") == stack.web_url, 20, "the page it came from")
    assert stack.host_name in browser.text("#hosts-live"), "still signed in: nothing changed"
