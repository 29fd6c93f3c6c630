"""Factories shared by the site's tests: users, teams, hosts, tokens."""

from __future__ import annotations

import itertools

import pytest

_counter = itertools.count(1)


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
