"""The containers pages as a team member meets them: the list and its filters, paging and
bulk actions, the run form and its field errors, one container's page and its actions, and a
404 for another team's container — each action a job, started the way the API starts it."""

from __future__ import annotations

import pytest

from webapp.inventory.models import Container
from webapp.jobs.models import Job


@pytest.fixture
def no_broker(monkeypatch):
    sent = []
    monkeypatch.setattr("webapp.jobs.services.enqueue", sent.append)
    return sent


@pytest.fixture
def fleet(make_host, make_team, make_user, grant, client):
    """Hosts h1, h2; team blue (the signed-in member, granted both) with three containers,
    team red (granted h1) with one."""
    h1, h2 = make_host("h1", cpus=2, memory_bytes=2**30), make_host("h2", cpus=2)
    blue, red = make_team("blue"), make_team("red")
    grant(blue, h1, h2)
    grant(red, h1)
    made = {}
    for name, host, state, team in [
        ("web", h1, "running", blue),
        ("db", h1, "exited", blue),
        ("cache", h2, "running", blue),
        ("theirs", h1, "running", red),
    ]:
        made[name] = Container.objects.create(
            host=host,
            team=team,
            engine_id=name * 8,
            name=name,
            image="busybox",
            state=state,
            ports=[
                {"container_port": 80, "protocol": "tcp", "host_ip": "0.0.0.0", "host_port": 8080}
            ]
            if name == "web"
            else [],
            health="healthy" if name == "web" else "",
        )
    client.force_login(make_user("ann", team=blue))
    return made


def _names(page: str) -> set[str]:
    import re

    return set(re.findall(r'data-name="([^"]*)"', page))


def test_the_list_shows_my_teams_containers_only(fleet, client):
    page = client.get("/containers/").content.decode()
    assert _names(page) == {"web", "db", "cache"}
    assert "8080" in page and "(healthy)" in page and 'href="/containers/new/"' in page
    dashboard = client.get("/").content.decode()
    assert 'href="/containers/"' in dashboard
    assert 'href="/containers/?state=running" class="state running">2 running' in dashboard
    assert 'class="state exited">1 exited' in dashboard


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("host=h1", {"web", "db"}),
        ("state=running", {"web", "cache"}),
        ("q=CA", {"cache"}),
        ("host=h1&state=running", {"web"}),
        ("state=bogus", {"web", "db", "cache"}),
        ("q=nothing", set()),
    ],
)
def test_the_list_filters_by_host_state_and_name(fleet, client, query, names):
    assert _names(client.get(f"/containers/?{query}").content.decode()) == names
    # the live table polls with the same filters
    assert _names(client.get(f"/containers/table/?{query}").content.decode()) == names


def test_the_list_pages_and_keeps_its_filter(fleet, client, monkeypatch):
    monkeypatch.setattr("webapp.inventory.views.CONTAINERS_PER_PAGE", 1)
    page = client.get("/containers/?host=h1").content.decode()
    assert _names(page) == {"db"} and 'href="?host=h1&amp;page=2"' in page
    assert _names(client.get("/containers/?host=h1&page=2").content.decode()) == {"web"}


def test_bulk_stop_starts_one_job_per_container_and_lists_them(fleet, client, no_broker):
    ids = [fleet["web"].pk, fleet["cache"].pk, fleet["theirs"].pk]
    r = client.post("/containers/bulk/", {"action": "stop", "selected": ids})
    jobs = Job.objects.order_by("pk")
    assert r.status_code == 302
    assert r["Location"] == f"/containers/?started={jobs[0].pk}%2C{jobs[1].pk}"
    assert {(j.kind, j.params["container"]) for j in jobs} == {
        ("container.stop", "cache" * 8),
        ("container.stop", "web" * 8),
    }
    page = client.get(r["Location"]).content.decode()
    for job in jobs:
        assert f'href="/jobs/{job.pk}/"' in page


def test_bulk_refuses_an_unknown_action(fleet, client, no_broker):
    r = client.post(
        "/containers/bulk/", {"action": "kill", "selected": [fleet["web"].pk]}, follow=True
    )
    assert "no bulk action" in r.content.decode() and not Job.objects.exists()


def test_the_run_form_starts_a_job_and_goes_to_its_page(fleet, client, no_broker):
    assert client.get("/containers/new/").status_code == 200
    r = client.post(
        "/containers/new/",
        {
            "image": "busybox",
            "name": "app",
            "command": "sleep 300",
            "env": "A=1\nB=two words\n",
            "ports": "8081:80",
            "restart": "on-failure:3",
            "memory": "64m",
            "cpus": "0.5",
            "labels": "tier=front",
            "health": "test -f /tmp/x",
            "host": "h1",
        },
    )
    job = Job.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/jobs/{job.pk}/"
    p = job.params
    assert p["command"] == ["sleep", "300"] and p["env"] == {"A": "1", "B": "two words"}
    assert p["ports"] == ["8081:80"] and p["memory"] == 64 * 2**20 and p["cpus"] == 0.5
    assert p["health"]["command"] == ["test", "-f", "/tmp/x"] and p["labels"] == {"tier": "front"}
    assert Container.objects.filter(name="app", host__name="h1", team__slug="blue").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("image", ""),
        ("image", "Not An Image!"),
        ("name", "bad name"),
        ("env", "1BAD=x"),
        ("ports", "99999:80"),
        ("restart", "sometimes"),
        ("memory", "lots"),
        ("cpus", "-1"),
        ("command", "echo 'unclosed"),
        ("network", "host"),
        ("host", "nowhere"),
    ],
)
def test_the_run_form_shows_each_error_by_its_field(fleet, client, no_broker, field, value):
    data = {"image": "busybox", field: value}
    r = client.post("/containers/new/", data)
    page = r.content.decode()
    assert r.status_code == 400 and f'id="error-{field}"' in page, page
    assert not Job.objects.exists()


def test_the_detail_page_shows_the_record_and_acts(fleet, client, no_broker):
    web = fleet["web"]
    page = client.get(f"/containers/{web.pk}/").content.decode()
    assert "running" in page and "webwebwe" in page and 'id="action-stop"' in page
    assert "&quot;host_port&quot;: 8080" in page  # the API's record, inspect-like
    r = client.post(f"/containers/{web.pk}/stop/")
    job = Job.objects.get()
    assert r.status_code == 302 and job.kind == "container.stop"
    assert job.params["container"] == web.engine_id
    r = client.post(f"/containers/{web.pk}/remove/")
    assert r["Location"] == f"/jobs/{Job.objects.latest('pk').pk}/"
    assert client.post(f"/containers/{web.pk}/explode/").status_code == 404
    partial = client.get(f"/containers/{web.pk}/", headers={"HX-Request": "true"})
    assert b'id="container-state"' in partial.content and b"<html" not in partial.content
    assert "HX-Request" in partial["Vary"]


def test_another_teams_container_is_a_404(fleet, client, no_broker):
    theirs = fleet["theirs"]
    assert client.get(f"/containers/{theirs.pk}/").status_code == 404
    assert client.post(f"/containers/{theirs.pk}/stop/").status_code == 404
    assert not Job.objects.exists()


def test_a_viewer_sees_no_action_buttons(fleet, client, make_user):
    from webapp.accounts.models import Team

    client.force_login(make_user(team=Team.objects.get(slug="blue"), role="viewer"))
    page = client.get(f"/containers/{fleet['web'].pk}/").content.decode()
    assert "action-stop" not in page and "running" in page


def test_the_pages_ask_a_signed_out_person_to_sign_in(db, client):
    assert client.get("/containers/new/")["Location"] == "/login/?next=/containers/new/"


def test_the_dashboards_jobs_link_to_their_pages_not_the_api(fleet, client, no_broker):
    client.post(f"/containers/{fleet['web'].pk}/stop/")
    page = client.get("/").content.decode()
    assert f'href="/jobs/{Job.objects.get().pk}/"' in page and "/api/v1/jobs/" not in page


@pytest.mark.parametrize(
    "data",
    [
        {"image": "busybox", "cpus": "nan"},
        {"image": "busybox", "memory": "9" * 40},
        {"image": "busybox", "env": "=x"},
        {"image": "busybox", "labels": "=x"},
        {"image": "busybox", "health": "''"},
        {"image": "busybox\x00", "name": "x" * 300},
        {"image": "busybox", "team": "red"},
    ],
)
def test_hostile_run_form_input_gets_field_errors_never_a_500(fleet, client, no_broker, data):
    r = client.post("/containers/new/", data)
    assert r.status_code == 400 and 'class="error"' in r.content.decode()
    assert not Job.objects.exists()


def test_a_viewer_posting_the_run_form_is_told_why(fleet, client, make_user, no_broker):
    from webapp.accounts.models import Team

    client.force_login(make_user(team=Team.objects.get(slug="blue"), role="viewer"))
    r = client.post("/containers/new/", {"image": "busybox", "host": "h1"})
    assert r.status_code == 400 and not Job.objects.exists()
    assert 'class="flash error"' in r.content.decode() or 'class="error"' in r.content.decode()


def test_a_crafted_privileged_field_is_refused_not_dropped(fleet, client, no_broker):
    """A field the form does not offer is named in an error and nothing runs (dropping it
    silently ran an ordinary container the person did not ask for)."""
    r = client.post(
        "/containers/new/", {"image": "busybox", "host": "h1", "privileged": "1", "cap_add": "ALL"}
    )
    assert r.status_code == 400
    assert b"privileged" in r.content
    assert not Job.objects.exists()


def test_the_list_costs_the_same_queries_for_many_rows(
    fleet, client, django_assert_max_num_queries
):
    host, team = fleet["web"].host, fleet["web"].team
    Container.objects.bulk_create(
        Container(host=host, team=team, engine_id=f"x{i}", name=f"x{i}", image="busybox")
        for i in range(20)
    )
    with django_assert_max_num_queries(12):
        assert client.get("/containers/").status_code == 200
