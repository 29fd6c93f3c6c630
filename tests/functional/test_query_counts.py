"""Every main list costs the same number of SQL queries for N rows as for 3N (no N+1).

The fleet grows in whole units: a unit is a host, a team granted it, a user of
that team, containers with labels and ports, an image, a volume, a network,
jobs with their requesters and output, audit entries and a quota. A fleet
admin reads everything; a team member (an admin of every other team, so the
team-filter path) reads a third as much at 3N as at N, too. Each page and API
list is read at N units and at 3N units, and must take exactly as many
queries both times, and no more than ``MAX_QUERIES``.
"""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from webapp.accounts.models import Membership, Quota, Team
from webapp.audit.models import AuditEntry
from webapp.fleet.models import Host, HostGrant
from webapp.inventory.models import Container, Image, Network, Volume
from webapp.jobs.models import Job

#: the most queries one list may take (sessions, the user, permissions and the list itself)
MAX_QUERIES = 20
#: units of fleet at N (3N units must still fit on one page of every list: all rows render)
N = 3

PAGES = ["/", "/containers/", "/images/", "/volumes/", "/networks/", "/hosts/", "/jobs/", "/audit/"]
APIS = [
    f"/api/v1/{kind}/"
    for kind in ("containers", "images", "volumes", "networks", "hosts", "jobs", "audit", "teams")
]

_units = itertools.count(1)


def add_units(count: int, member) -> None:
    """COUNT more units of fleet; MEMBER is an admin of every other new team."""
    from django.contrib.auth import get_user_model

    for _ in range(count):
        i = next(_units)
        host = Host.objects.create(name=f"qc-host{i}", facts={"kernel": "test", "cpus": 2})
        team = Team.objects.create(name=f"qc-team{i}", slug=f"qc-team{i}")
        HostGrant.objects.create(team=team, host=host)
        Quota.objects.create(team=team, containers=100, memory=2**30)
        user = get_user_model().objects.create_user(f"qc-user{i}", password="pw-for-tests-only")
        Membership.objects.create(user=user, team=team, role="operator")
        if i % 2:
            Membership.objects.create(user=member, team=team, role="admin")
        jobs = [
            Job.objects.create(
                kind="container.create",
                host=host,
                team=team,
                requester=user,
                params={"image": "busybox", "cpus": 0.5, "memory": 2**20},
                state="succeeded",
            )
            for _ in range(2)
        ]
        jobs[0].append_lines([{"seq": 1, "stream": "stdout", "text": "made"}])
        for n, job in enumerate(jobs):
            Container.objects.create(
                host=host,
                team=team,
                engine_id=f"{i:032x}{n:032x}",
                name=f"c{i}-{n}",
                image="busybox",
                state=("running", "exited")[n],
                health=("unhealthy", "")[n],
                labels={"wharf.job": str(job.pk), "app": f"a{i}"},
                ports=[
                    {
                        "container_port": 80,
                        "protocol": "tcp",
                        "host_ip": "0.0.0.0",
                        "host_port": 8000 + n,
                    }
                ],
                networks=[{"name": "bridge", "ip_address": "172.19.0.2", "mac_address": "02:42"}],
            )
        Image.objects.create(host=host, team=team, engine_id=f"sha256:{i:064x}", tags=[f"i{i}:1"])
        Volume.objects.create(host=host, team=team, engine_id=f"v{i}", name=f"v{i}", size=10)
        Network.objects.create(
            host=host, team=team, engine_id=f"{i:064x}", name=f"n{i}", driver="bridge"
        )
        for action in ("job.create", "container.adopt"):
            AuditEntry.objects.create(
                action=action, actor=user, actor_name=user.username, team=team, team_name=team.name
            )


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        r = client.get(url)
    assert r.status_code == 200, (url, r.status_code, r.content[:300])
    return len(captured)


@pytest.fixture
def readers(make_user, api_client):
    admin = make_user("qc-fleet-admin", staff=True)
    member = make_user("qc-member")
    clients = {}
    for who, user in (("fleet admin", admin), ("team member", member)):
        page = Client()
        page.force_login(user)
        clients[who] = (page, api_client(user))
    return member, clients


@pytest.mark.parametrize("who", ["fleet admin", "team member"])
def test_each_list_takes_the_same_queries_for_3n_rows_as_for_n(readers, who):
    member, clients = readers
    page, api = clients[who]
    add_units(N, member)
    urls = [(page, u) for u in PAGES] + [(api, u) for u in APIS]
    for client, url in urls:  # warm: the session, the token, Django's content types
        count_queries(client, url)
    at_n = {url: count_queries(client, url) for client, url in urls}
    add_units(2 * N, member)
    at_3n = {url: count_queries(client, url) for client, url in urls}
    grew = {url: (at_n[url], at_3n[url]) for url in at_n if at_3n[url] != at_n[url]}
    assert not grew, f"queries grow with the rows (N, 3N) as {who}: {grew}"
    over = {url: n for url, n in at_3n.items() if n > MAX_QUERIES}
    assert not over, f"over {MAX_QUERIES} queries as {who}: {over}"


def test_every_row_is_shown_at_3n(readers):
    """The counts above mean something only if every row renders: 3N fits on one page."""
    member, clients = readers
    add_units(3 * N, member)
    _page, api = clients["fleet admin"]
    assert api.get("/api/v1/containers/").json()["count"] == Container.objects.count() <= 25
    assert api.get("/api/v1/jobs/").json()["count"] == Job.objects.count() <= 25
    mine = clients["team member"][1].get("/api/v1/containers/").json()
    assert 0 < mine["count"] < Container.objects.count()


def test_an_api_call_writes_the_tokens_last_use_at_most_once_a_minute(readers):
    from datetime import timedelta

    from webapp.accounts.tokens import ApiToken

    _member, clients = readers
    api = clients["fleet admin"][1]
    api.get("/api/v1/hosts/")
    with CaptureQueriesContext(connection) as captured:
        assert api.get("/api/v1/hosts/").status_code == 200
    assert not [q for q in captured if q["sql"].startswith("UPDATE")], captured.captured_queries
    token = ApiToken.objects.get(user__username="qc-fleet-admin")
    stale = token.last_used - timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used=stale)
    api.get("/api/v1/hosts/")
    token.refresh_from_db()
    assert token.last_used >= stale + timedelta(minutes=2)


def test_the_dashboard_shows_the_first_hosts_and_leads_to_all_of_them(readers):
    from webapp.jobs.views import DASHBOARD_HOSTS

    member, clients = readers
    add_units(DASHBOARD_HOSTS + 2, member)
    page = clients["fleet admin"][0].get("/").content.decode()
    assert page.count('class="host"') == DASHBOARD_HOSTS
    total = Host.objects.count()
    assert f'{DASHBOARD_HOSTS} of {total} hosts: <a href="/hosts/">all hosts</a>' in page
    listed = clients["fleet admin"][0].get("/hosts/").content.decode()
    assert all(name in listed for name in Host.objects.values_list("name", flat=True))
