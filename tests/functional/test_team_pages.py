"""The teams pages and the dashboard's cards: a team admin adds, changes and takes out members
(the API's rules and errors, the last admin stays, each change audited), everyone else reads
or gets 404; the dashboard shows my teams' quota use and my failing health checks."""

from __future__ import annotations

import html

import pytest
from django.test import Client

from webapp.accounts.models import Membership, Quota
from webapp.audit.models import AuditEntry
from webapp.inventory.models import Container


@pytest.fixture
def blue(make_team):
    return make_team("blue")


@pytest.fixture
def boss(make_user, blue):
    return make_user("boss", team=blue, role="admin")


def _as(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_a_team_admin_adds_a_member_by_username_and_it_is_audited(boss, blue, make_user):
    make_user("carol")
    c = _as(boss)
    page = c.get("/teams/blue/members/").content.decode()
    assert 'id="member-form"' in page and 'for="id_user"' in page and 'for="id_role"' in page
    r = c.post("/teams/blue/members/add/", {"user": "carol", "role": "viewer"}, follow=True)
    assert r.status_code == 200 and "Added carol to blue as Viewer." in r.content.decode()
    assert Membership.objects.get(team=blue, user__username="carol").role == "viewer"
    entry = AuditEntry.objects.filter(action="membership.create").latest("pk")
    assert entry.actor_name == "boss" and entry.after["user"] == "carol"


@pytest.mark.parametrize(
    ("form", "field", "text"),
    [
        ({"user": "nobody", "role": "viewer"}, "user", "no user 'nobody'"),
        ({"user": "", "role": "viewer"}, "user", "may not be blank"),
        ({"user": "boss", "role": "owner"}, "role", "is not a valid choice"),
    ],
)
def test_the_add_form_shows_field_errors(boss, form, field, text):
    r = _as(boss).post("/teams/blue/members/add/", form)
    page = html.unescape(r.content.decode())
    assert r.status_code == 400
    assert f'id="error-{field}"' in page and text in page
    assert f'name="{field}"' in page and 'aria-invalid="true"' in page
    assert Membership.objects.count() == 1


def test_adding_someone_already_in_the_team_says_change_the_role(boss, make_user, blue):
    make_user("dan", team=blue, role="viewer")
    r = _as(boss).post("/teams/blue/members/add/", {"user": "dan", "role": "admin"})
    assert r.status_code == 409 and "change the role instead" in r.content.decode()
    assert Membership.objects.get(user__username="dan").role == "viewer"


def test_a_team_admin_changes_a_role_and_removes_a_member_but_the_last_admin_stays(
    boss, blue, make_user
):
    make_user("erin", team=blue, role="viewer")
    c = _as(boss)
    r = c.post("/teams/blue/members/erin/role/", {"role": "operator"}, follow=True)
    assert "erin is now Operator of blue." in r.content.decode()
    assert Membership.objects.get(user__username="erin").role == "operator"
    r = c.post("/teams/blue/members/boss/role/", {"role": "viewer"}, follow=True)
    assert "boss is the last admin of team blue" in r.content.decode()
    r = c.post("/teams/blue/members/boss/remove/", follow=True)
    assert "boss is the last admin of team blue" in r.content.decode()
    assert Membership.objects.get(user__username="boss").role == "admin"
    r = c.post("/teams/blue/members/erin/role/", {"role": "chief"}, follow=True)
    assert "is not a valid choice" in r.content.decode()
    r = c.post("/teams/blue/members/erin/remove/", follow=True)
    assert "Took erin out of blue." in r.content.decode()
    assert not Membership.objects.filter(user__username="erin").exists()
    assert AuditEntry.objects.filter(action="membership.delete").count() == 1
    r = c.post("/teams/blue/members/erin/remove/", follow=True)
    assert "erin is not in team blue" in r.content.decode()


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_viewers_and_operators_read_the_members_and_change_nothing(role, boss, blue, make_user):
    member = make_user("mo", team=blue, role=role)
    c = _as(member)
    page = c.get("/teams/blue/members/").content.decode()
    assert 'data-user="boss"' in page and "Team admin" in page
    assert 'id="member-form"' not in page and "role-form" not in page
    r = c.post("/teams/blue/members/add/", {"user": "boss", "role": "viewer"})
    assert r.status_code == 403 and "only the admins of team blue" in r.content.decode()
    c.post("/teams/blue/members/boss/role/", {"role": "viewer"})
    c.post("/teams/blue/members/boss/remove/")
    assert Membership.objects.get(user__username="boss").role == "admin"


def test_another_teams_admin_gets_404_everywhere(boss, make_team, make_user):
    stranger = make_user("stranger", team=make_team("red"), role="admin")
    c = _as(stranger)
    assert c.get("/teams/blue/members/").status_code == 404
    assert (
        c.post("/teams/blue/members/add/", {"user": "stranger", "role": "admin"}).status_code == 404
    )
    assert c.post("/teams/blue/members/boss/role/", {"role": "viewer"}).status_code == 404
    assert c.post("/teams/blue/members/boss/remove/").status_code == 404
    assert not Membership.objects.filter(team__slug="blue", user=stranger).exists()
    page = c.get("/teams/").content.decode()
    assert 'data-team="red"' in page and 'data-team="blue"' not in page


def test_the_teams_page_lists_my_teams_or_says_what_to_do(boss, make_user):
    page = _as(boss).get("/teams/").content.decode()
    assert 'href="/teams/blue/members/"' in page and "Team admin" in page
    page = _as(make_user("loner")).get("/teams/").content.decode()
    assert 'id="no-teams"' in page and "loner" in page


def test_the_dashboard_shows_quota_use_with_bars_and_no_limit(boss, blue, make_host):
    Quota.objects.create(team=blue, containers=4, memory=1 << 30)
    host = make_host("h1")
    Container.objects.create(host=host, team=blue, engine_id="a" * 64, name="web", image="x")
    page = _as(boss).get("/").content.decode()
    assert 'id="quota-card"' in page and 'data-team="blue"' in page
    card = page.split('id="quota-card"')[1].split("</section>")[0]
    assert "Containers" in card and "1 / 4" in card and '<meter min="0" max="4" value="1"' in card
    assert "0 bytes / 1 GiB" in card
    assert "CPUs" in card and "0 / no limit" in card
    assert "Volume storage" in card and "0 bytes / no limit" in card
    assert card.count("<meter") == 2, "a bar only where there is a limit"


def test_the_dashboard_quota_card_reads_the_teams_apis_numbers(boss, blue, api_client):
    Quota.objects.create(team=blue, cpus=2)
    api = api_client(boss).get("/api/v1/teams/blue/").json()["quota"]
    assert api == {
        "limits": {"containers": None, "cpus": 2.0, "memory": None, "storage": None},
        "in_use": {"containers": 0, "cpus": 0, "memory": 0, "storage": 0},
    }
    card = _as(boss).get("/").content.decode().split('id="quota-card"')[1]
    assert "0 / 2" in card


def test_the_dashboard_without_a_team_says_what_to_do(make_user):
    page = _as(make_user("loner")).get("/").content.decode()
    assert 'id="no-quota"' in page and "loner" in page
    assert 'id="no-unhealthy"' in page


def test_the_dashboard_lists_my_failing_health_checks_only(boss, blue, make_team, make_host):
    host = make_host("h1")
    red = make_team("red")
    sick = Container.objects.create(
        host=host, team=blue, engine_id="s" * 64, name="sick", image="x", health="unhealthy"
    )
    Container.objects.create(
        host=host, team=blue, engine_id="w" * 64, name="well", image="x", health="healthy"
    )
    Container.objects.create(
        host=host, team=red, engine_id="r" * 64, name="theirs", image="x", health="unhealthy"
    )
    page = _as(boss).get("/").content.decode()
    card = page.split('id="health-card"')[1].split("</section>")[0]
    assert f'href="/containers/{sick.pk}/"' in card and "sick" in card
    assert "well" not in card and "theirs" not in card
    assert 'id="no-unhealthy"' not in card
