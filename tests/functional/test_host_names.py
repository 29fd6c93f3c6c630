"""A host's name is checked when it registers: a bad one is refused and never stored,
so the pages that list the fleet keep answering for every user."""

import pytest
from django.core.exceptions import ValidationError

from webapp.fleet.models import Host
from webapp.fleet.names import InvalidHostName

BAD_NAMES = ["", "a/b", "../x", "-rm", ".", "x" * 64, "white space", "tab\tname", "é"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_beat_with_a_bad_name_is_refused_and_nothing_is_stored(db, name):
    with pytest.raises(InvalidHostName) as refused:
        Host.beat(name, {"kernel": "6.1"})
    message = str(refused.value)
    assert message.startswith("host name ") and "is not valid: use 1 to 63 letters" in message
    assert "\n" not in message
    assert not Host.objects.exists()


@pytest.mark.parametrize("name", ["a/b", ""])
def test_saving_a_host_any_other_way_is_refused_too(db, name):
    with pytest.raises(ValidationError):
        Host.objects.create(name=name)
    with pytest.raises(ValidationError):
        Host(name=name).full_clean()
    assert not Host.objects.exists()


@pytest.mark.parametrize("name", ["alpha", "node-7.example.org", "rack_3", "A1", "x" * 63])
def test_dns_like_names_register(db, name):
    assert Host.beat(name).name == name


def test_after_a_refused_registration_the_dashboard_and_hosts_table_still_answer(
    make_user, make_team, make_host, grant, client
):
    team = make_team()
    grant(team, make_host("good-host"))
    for name in ("bad/name", ""):
        with pytest.raises(InvalidHostName):
            Host.beat(name)
    client.force_login(make_user(team=team))
    for url in ("/", "/hosts/table/"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert b"good-host" in r.content


def test_a_row_stored_before_names_were_checked_does_not_break_the_pages(
    make_user, make_team, make_host, grant, client
):
    """bulk_create skips save(): this stands for a row left from before the check."""
    team = make_team()
    make_host("good-host")
    Host.objects.bulk_create([Host(name="legacy/bad"), Host(name="")])
    grant(team, *Host.objects.all())
    client.force_login(make_user(team=team))
    r = client.get("/")
    assert r.status_code == 200
    assert b"legacy/bad" in r.content and b"good-host" in r.content
    assert b'action="/hosts/good-host/check/"' in r.content
    assert client.get("/hosts/table/").status_code == 200
