"""The hosts pages (facts, load, my containers; drain, cordon, uncordon for fleet admins only),
the jobs list with its filters, and the profile page's API tokens (shown once, revoked)."""

from __future__ import annotations

import pytest

from webapp.accounts.tokens import ApiToken
from webapp.fleet.models import Host, HostEvent
from webapp.inventory.models import Container
from webapp.jobs.models import Job


@pytest.fixture
def fleet(make_host, make_team, make_user, grant):
    h1 = make_host(
        "h1", cpus=4, memory_bytes=2**31, disk_free_bytes=5 * 2**30, load_average=[0.5, 0.4, 0.3]
    )
    h2 = make_host("h2", cpus=2)
    make_host("elsewhere", cpus=1)
    blue, red = make_team("blue"), make_team("red")
    grant(blue, h1, h2)
    grant(red, h1)
    Container.objects.create(
        host=h1, team=blue, engine_id="w", name="web", image="x", state="running"
    )
    Container.objects.create(
        host=h1, team=red, engine_id="s", name="secret", image="x", state="running"
    )
    return {"h1": h1, "blue": blue, "red": red, "ann": make_user("ann", team=blue)}


def test_hosts_list_my_teams_hosts_with_load_and_free_disk(fleet, client):
    client.force_login(fleet["ann"])
    page = client.get("/hosts/").content.decode()
    assert 'data-host="h1"' in page and 'data-host="h2"' in page and "elsewhere" not in page
    assert "<td>0.5</td>" in page and "5.0\xa0GB" in page
    detail = client.get("/hosts/h1/").content.decode()
    assert 'data-name="web"' in detail and "secret" not in detail
    assert "0.5 · 0.4 · 0.3" in detail and 'id="host-holds"' not in detail
    assert client.get("/hosts/elsewhere/").status_code == 404


def test_only_fleet_admins_drain_cordon_and_uncordon(fleet, client, make_user):
    client.force_login(fleet["ann"])
    r = client.post("/hosts/h1/cordon/", follow=True)
    assert "only fleet admins" in r.content.decode()
    assert Host.objects.get(name="h1").state == "online"
    client.force_login(make_user("root", staff=True))
    assert 'id="host-drain"' in client.get("/hosts/h1/").content.decode()
    for hold, state in (("cordon", "cordoned"), ("drain", "draining"), ("uncordon", "online")):
        assert client.post(f"/hosts/h1/{hold}/").status_code == 302
        assert Host.objects.get(name="h1").state == state
    assert [e.kind for e in HostEvent.objects.order_by("pk")][-3:] == [
        "cordoned",
        "drained",
        "uncordoned",
    ]
    assert client.post("/hosts/h1/explode/").status_code == 404
    assert client.post("/hosts/nowhere/cordon/").status_code == 404


def test_the_jobs_list_filters_by_kind_host_and_text(fleet, client):
    client.force_login(fleet["ann"])
    h2 = Host.objects.get(name="h2")
    pull = Job.objects.create(kind="image.pull", host=fleet["h1"], team=fleet["blue"])
    stop = Job.objects.create(kind="container.stop", host=h2, team=fleet["blue"])
    theirs = Job.objects.create(kind="image.pull", host=fleet["h1"], team=fleet["red"])

    def shown(query: str) -> set[int]:
        import re

        page = client.get(f"/jobs/?{query}").content.decode()
        return {int(i) for i in re.findall(r'data-job="(\d+)"', page)}

    assert shown("") == {pull.pk, stop.pk}
    assert shown("kind=image.pull") == {pull.pk}
    assert shown("host=h2") == {stop.pk}
    assert shown(f"search={stop.pk}") == {stop.pk}
    assert theirs.pk not in shown("kind=image.pull")
    # the table polls with every filter it was given
    page = client.get("/jobs/?kind=image.pull&host=h1").content.decode()
    assert "/jobs/table/?kind=image.pull&amp;host=h1&amp;page=1" in page


def test_a_token_is_shown_once_then_listed_and_revoked(fleet, client):
    client.force_login(fleet["ann"])
    r = client.post("/profile/tokens/", {"name": "ci", "days": "30"})
    page = r.content.decode()
    token = ApiToken.objects.get(user=fleet["ann"])
    import re

    text = re.search(r'id="token-text" class="token" value="([^"]+)"', page).group(1)
    assert ApiToken.user_for(text) == fleet["ann"] and r["Cache-Control"] == "no-store"
    later = client.get("/profile/").content.decode()
    assert text not in later and f'data-token="{token.pk}"' in later and ">ci<" in later
    # the API takes it
    assert client.get("/api/v1/jobs/", HTTP_AUTHORIZATION=f"Token {text}").status_code == 200
    client.post(f"/profile/tokens/{token.pk}/revoke/")
    assert not ApiToken.objects.exists() and ApiToken.user_for(text) is None


@pytest.mark.parametrize(
    ("data", "field"),
    [({"days": "0"}, "days"), ({"days": "x"}, "days"), ({"name": "n" * 101}, "name")],
)
def test_the_token_form_shows_field_errors(fleet, client, data, field):
    client.force_login(fleet["ann"])
    r = client.post("/profile/tokens/", data)
    assert r.status_code == 400 and f'id="error-{field}"' in r.content.decode()
    assert not ApiToken.objects.exists()


def test_another_persons_token_is_a_404(fleet, client, make_user):
    other, _ = ApiToken.issue(make_user("bob", team=fleet["red"]), "bob's")
    client.force_login(fleet["ann"])
    assert client.post(f"/profile/tokens/{other.pk}/revoke/").status_code == 404
    assert "bob&#x27;s" not in client.get("/profile/").content.decode()
    assert ApiToken.objects.filter(pk=other.pk).exists()
