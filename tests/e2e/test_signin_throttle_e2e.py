"""Password guessing against the real site: per account and per address, across two ASGI
processes sharing Redis, refused with a clear message until the window has passed.

The stack runs with a 15 s window, 3 failures per account and 6 per address
(e2e_stack.start_stack); every test here uses its own accounts and its own
loopback addresses, so the other end-to-end tests sign in undisturbed.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from e2e_stack import wait_for

ACCOUNT_LIMIT, ADDRESS_LIMIT, WINDOW = 3, 6, 15
PAUSED = "Too many failed sign-ins for this account or from your address"
WRONG = "Please enter a correct username and password"


@pytest.fixture(scope="module")
def second_web(stack) -> str:
    """Another ASGI process of the same site: counters must be shared, not per process."""
    return stack.start_web("web-2")


def _user(stack) -> tuple[str, str]:
    name, password = f"u{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    stack.add_user(name, password)
    return name, password


def _sign_in(stack, address: str, username: str, password: str, base_url: str | None = None):
    with stack.session(address) as client:
        if base_url:
            client.base_url = base_url
        r = stack.sign_in(client, username, password)
        signed_in = r.status_code == 302 and client.get("/").status_code == 200
        return r, signed_in


def test_after_the_account_limit_the_right_password_is_refused_on_every_process(stack, second_web):
    victim, password = _user(stack)
    for _ in range(ACCOUNT_LIMIT):
        r, _ = _sign_in(stack, "127.0.0.11", victim, "wrong-guess")
        assert r.status_code == 200 and WRONG in r.text

    for base_url in (stack.web_url, second_web):
        r, signed_in = _sign_in(stack, "127.0.0.11", victim, password, base_url)
        assert not signed_in
        assert r.status_code == 429 and PAUSED in r.text, (base_url, r.status_code, r.text[:500])
        assert r.headers["Retry-After"] == str(WINDOW)
    # the lock is the account's, from any address
    r, signed_in = _sign_in(stack, "127.0.0.12", victim, password)
    assert r.status_code == 429 and not signed_in

    other, other_password = _user(stack)
    assert _sign_in(stack, "127.0.0.13", other, other_password)[1], "others sign in as usual"

    wait_for(
        lambda: _sign_in(stack, "127.0.0.11", victim, password)[1],
        WINDOW + 30,
        "the window to pass and the right password to work again",
        interval=1,
    )


def test_after_the_address_limit_that_address_is_refused_for_every_account(stack):
    user, password = _user(stack)
    for n in range(ADDRESS_LIMIT):  # a spray: one guess for each of many names
        r, _ = _sign_in(stack, "127.0.0.21", f"nobody{n}-{uuid.uuid4().hex[:4]}", "guess")
        assert r.status_code == 200 and WRONG in r.text
    r, signed_in = _sign_in(stack, "127.0.0.21", user, password)
    assert r.status_code == 429 and PAUSED in r.text and not signed_in
    assert _sign_in(stack, "127.0.0.22", user, password)[1], "the account itself is not locked"


def test_parallel_guessers_get_exactly_the_limit_of_password_checks(stack, second_web):
    """Tries are taken atomically before hashing: 8 clients on 2 processes cannot race past it."""
    victim, password = _user(stack)
    urls = [stack.web_url, second_web]

    def guess(n: int) -> int:
        r, _ = _sign_in(stack, f"127.0.1.{n % 8 + 1}", victim, f"guess-{n}", urls[n % 2])
        return r.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(guess, range(24)))
    assert statuses.count(200) == ACCOUNT_LIMIT, statuses
    assert statuses.count(429) == 24 - ACCOUNT_LIMIT, statuses
    r, signed_in = _sign_in(stack, "127.0.1.9", victim, password)
    assert r.status_code == 429 and not signed_in


def test_the_admin_sign_in_page_is_throttled_too(stack):
    victim, password = _user(stack)

    def admin_sign_in(pw: str):
        with stack.session("127.0.0.41") as client:
            page = client.get("/admin/login/")
            token = page.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
            return client.post(
                "/admin/login/",
                data={"username": victim, "password": pw, "csrfmiddlewaretoken": token},
            )

    for _ in range(ACCOUNT_LIMIT):
        admin_sign_in("wrong")
    r = admin_sign_in(password)
    assert r.status_code == 200 and PAUSED in r.text
