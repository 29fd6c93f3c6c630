"""One rule for every team-owned query: ``for_user(user, action)``, used by the API, pages and sockets."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from webapp.accounts.models import Team
from webapp.fleet.models import Host
from webapp.jobs.models import Job
from webapp.permissions import MANAGE, RUN, VIEW, permits


@pytest.fixture
def world(make_team, make_user, make_host, grant):
    blue, red = make_team("blue"), make_team("red")
    host = make_host()
    grant(blue, host)
    jobs = {
        "blue": Job.objects.create(kind="host.check", host=host, team=blue),
        "red": Job.objects.create(kind="host.check", host=host, team=red),
    }
    users = {
        "admin": make_user(team=blue, role="admin"),
        "operator": make_user(team=blue, role="operator"),
        "viewer": make_user(team=blue, role="viewer"),
        "stranger": make_user(),
        "staff": make_user(staff=True),
    }
    return jobs, users


@pytest.mark.parametrize(
    "who,view,run,manage",
    [
        ("admin", {"blue"}, {"blue"}, {"blue"}),
        ("operator", {"blue"}, {"blue"}, set()),
        ("viewer", {"blue"}, set(), set()),
        ("stranger", set(), set(), set()),
        ("staff", {"blue", "red"}, {"blue", "red"}, {"blue", "red"}),
    ],
)
def test_roles_grant_actions_on_jobs_and_teams(world, who, view, run, manage):
    jobs, users = world
    user = users[who]
    names = {pk: name for name, pk in ((n, j.pk) for n, j in jobs.items())}
    assert {names[j.pk] for j in Job.objects.for_user(user, VIEW)} == view
    assert {names[j.pk] for j in Job.objects.for_user(user, RUN)} == run
    assert {t.slug for t in Team.objects.for_user(user, RUN)} == run
    assert {t.slug for t in Team.objects.for_user(user, MANAGE)} == manage & {"blue", "red"}
    assert permits(user, jobs["blue"], RUN) == ("blue" in run)


def test_anonymous_gets_nothing_and_hosts_are_for_the_teams_granted_them(world, make_host):
    _jobs, users = world
    assert not Job.objects.for_user(AnonymousUser(), VIEW).exists()
    assert not Host.objects.for_user(AnonymousUser(), VIEW).exists()
    make_host("ungranted")
    assert Host.objects.for_user(users["operator"], RUN).count() == 1
    assert Host.objects.for_user(users["viewer"], VIEW).count() == 1
    assert Host.objects.for_user(users["viewer"], RUN).count() == 1, "its team's right decides"
    assert not Host.objects.for_user(users["stranger"], VIEW).exists()
    assert Host.objects.for_user(users["staff"], RUN).count() == 2


def test_an_unknown_action_is_a_programming_error(world):
    with pytest.raises(ValueError):
        Job.objects.for_user(world[1]["operator"], "delete")


def test_a_viewset_cannot_bypass_the_restriction():
    from webapp.api.viewsets import TeamScopedViewSet

    with pytest.raises(TypeError, match="get_queryset"):

        class Leaky(TeamScopedViewSet):
            def get_queryset(self):
                return Job.objects.all()


def test_unknown_roles_are_refused_by_the_database(make_team, make_user):
    """A role outside the choices would grant nothing, silently: the database refuses it."""
    from django.db import IntegrityError, transaction

    from webapp.accounts.models import Membership

    with transaction.atomic(), pytest.raises(IntegrityError):
        Membership.objects.create(user=make_user(), team=make_team(), role="member")


@pytest.mark.django_db(transaction=True)
def test_the_migration_maps_owner_to_admin_and_member_to_operator():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        [("accounts", "0003_team_quota")],
        [("accounts", "0004_roles_viewer_operator_admin")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    team = old.get_model("accounts", "Team").objects.create(name="t", slug="t")
    User = old.get_model("auth", "User")
    for name in ("owner", "member", "viewer"):
        old.get_model("accounts", "Membership").objects.create(
            user=User.objects.create(username=name), team=team, role=name
        )
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    roles = dict(
        new.get_model("accounts", "Membership").objects.values_list("user__username", "role")
    )
    assert roles == {"owner": "admin", "member": "operator", "viewer": "viewer"}
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
