"""Factories shared by the site's tests: users, teams, hosts, tokens."""

from __future__ import annotations

import itertools

import pytest

_counter = itertools.count(1)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """How pytest-xdist shares the tests out (``scripts/test.sh`` runs it): each test is a
    unit of work of its own, but the end-to-end tests are one unit, run in order in one
    worker — they share one stack (real processes, ports, a database) and some follow on
    from the one before. The largest unit is handed out first, so they start at once.

    (xdist's own ``--dist loadgroup`` marks groups by renaming test ids, which pytest 9
    no longer lets it do: its groups are silently ignored.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class OneStack(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "tests/e2e" if nodeid.startswith("tests/e2e/") else nodeid

    return OneStack(config, log)


@pytest.fixture
def make_user(db):
    from django.contrib.auth import get_user_model

    def make(
        username: str | None = None, *, staff: bool = False, team=None, role: str = "operator"
    ):
        from webapp.accounts.choices import Role
        from webapp.accounts.models import Membership

        if role not in Role.values:
            raise AssertionError(
                f"role {role!r}: roles are {Role.values} (owner is now admin, member is operator)"
            )

        user = get_user_model().objects.create_user(
            username or f"user{next(_counter)}", password="pw-for-tests-only", is_staff=staff
        )
        if team is not None:
            Membership.objects.create(user=user, team=team, role=role)
        return user

    return make


@pytest.fixture
def make_team(db):
    from webapp.accounts.models import Team

    def make(name: str | None = None):
        name = name or f"team{next(_counter)}"
        return Team.objects.create(name=name, slug=name.lower())

    return make


@pytest.fixture
def make_host(db):
    from webapp.fleet.models import Host

    def make(name: str | None = None, **facts):
        return Host.beat(name or f"host{next(_counter)}", facts or {"kernel": "test"})

    return make


@pytest.fixture
def grant(db):
    """Grant hosts to a team: ``grant(team, host, ...)`` (hosts see no team until granted)."""
    from webapp.fleet.models import HostGrant

    def make(team, *hosts) -> None:
        for host in hosts:
            HostGrant.objects.get_or_create(team=team, host=host)

    return make


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    def make(user):
        from webapp.accounts.tokens import ApiToken

        client = APIClient()
        _token, text = ApiToken.issue(user, "tests")
        client.credentials(HTTP_AUTHORIZATION=f"Token {text}")
        return client

    return make
