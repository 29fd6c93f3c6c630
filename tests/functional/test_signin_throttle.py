"""Sign-in throttling in the site: per account and per address, for every password check.

The real server, several processes and the window's expiry are in
tests/e2e/test_signin_throttle_e2e.py; here the rules themselves.
"""

import pytest
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.test import Client

from webapp.accounts.throttle import address_of

PAUSED = "Too many failed sign-ins for this account or from your address"
WRONG = "Please enter a correct username and password"
PASSWORD = "pw-for-tests-only"  # tests/conftest.py's make_user


@pytest.fixture(autouse=True)
def limits(settings):
    settings.WHARF_SIGNIN_ACCOUNT_LIMIT = 3
    settings.WHARF_SIGNIN_ADDRESS_LIMIT = 5
    settings.WHARF_SIGNIN_WINDOW_SECONDS = 600
    cache.clear()
    yield
    cache.clear()


def _sign_in(username: str, password: str, address: str = "10.0.0.1", url: str = "/login/"):
    client = Client(REMOTE_ADDR=address)
    r = client.post(url, {"username": username, "password": password})
    return r, "_auth_user_id" in client.session


def test_after_the_account_limit_even_the_right_password_is_refused(make_user):
    alice = make_user("alice")
    for _ in range(3):
        r, signed_in = _sign_in("alice", "guess")
        assert r.status_code == 200 and WRONG in r.text and not signed_in
    r, signed_in = _sign_in("alice", PASSWORD)
    assert not signed_in
    assert r.status_code == 429 and PAUSED in r.text and "10 minutes" in r.text
    assert r["Retry-After"] == "600"
    # from any address: the lock is the account's
    assert _sign_in("alice", PASSWORD, "10.9.9.9")[0].status_code == 429
    assert alice.is_active, "nothing about the account itself changed"


def test_another_account_from_another_address_signs_in(make_user):
    make_user("alice")
    make_user("bob")
    for _ in range(4):
        _sign_in("alice", "guess")
    assert _sign_in("bob", PASSWORD, "10.0.0.2")[1]


def test_after_the_address_limit_the_address_is_refused_for_every_account(make_user):
    make_user("bob")
    for n in range(5):
        _sign_in(f"nobody{n}", "guess", "10.0.0.3")
    r, signed_in = _sign_in("bob", PASSWORD, "10.0.0.3")
    assert r.status_code == 429 and PAUSED in r.text and not signed_in
    assert _sign_in("bob", PASSWORD, "10.0.0.4")[1]


def test_the_right_password_clears_the_accounts_failures(make_user):
    make_user("carol")
    for _ in range(2):
        for _ in range(2):
            _sign_in("carol", "typo")
        assert _sign_in("carol", PASSWORD)[1]


def test_unknown_accounts_lock_like_real_ones_so_a_lock_reveals_nothing(db):
    for _ in range(3):
        _sign_in("ghost", "guess")
    r, _ = _sign_in("ghost", "guess")
    assert r.status_code == 429 and PAUSED in r.text


def test_every_password_check_counts_not_only_the_page(make_user):
    """The backend throttles: the admin's sign-in, authenticate() and Client.login() alike."""
    make_user("dave", staff=True)
    for _ in range(3):
        _sign_in("dave", "guess", url="/admin/login/")
    r, signed_in = _sign_in("dave", PASSWORD, url="/admin/login/")
    assert PAUSED in r.text and not signed_in
    assert authenticate(None, username="dave", password=PASSWORD) is None
    assert not Client().login(username="dave", password=PASSWORD)


@pytest.mark.parametrize(
    ("remote", "counted_as"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("", None),
        ("not-an-address", None),
    ],
)
def test_addresses_are_counted_per_ipv4_address_and_per_ipv6_64(rf, remote, counted_as):
    assert address_of(rf.get("/", REMOTE_ADDR=remote)) == counted_as
