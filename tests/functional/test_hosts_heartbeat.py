"""Hosts register by beating; a host that stops beating is shown unreachable."""

from datetime import timedelta

from django.utils import timezone

from webapp.fleet.choices import HostState
from webapp.fleet.models import Host


def test_it_registers_a_host_on_first_beat(db):
    host = Host.beat("alpha", {"kernel": "6.1"})
    assert host.state == HostState.ONLINE
    assert host.facts == {"kernel": "6.1"}
    assert host.queue == "host.alpha"


def test_it_marks_a_silent_host_unreachable(db, settings):
    settings.WHARF_UNREACHABLE_AFTER = 45
    Host.beat("quiet")
    Host.beat("lively")
    Host.objects.filter(name="quiet").update(last_heartbeat=timezone.now() - timedelta(seconds=60))
    assert Host.mark_unreachable() == ["quiet"]
    assert Host.objects.get(name="quiet").state == HostState.UNREACHABLE
    assert Host.objects.get(name="lively").state == HostState.ONLINE


def test_a_new_beat_brings_an_unreachable_host_back(db):
    Host.beat("flaky")
    Host.objects.filter(name="flaky").update(state=HostState.UNREACHABLE)
    assert Host.beat("flaky", {"kernel": "new"}).state == HostState.ONLINE
    assert Host.objects.get(name="flaky").facts == {"kernel": "new"}


def test_a_beat_never_lifts_an_admin_cordon(db):
    Host.beat("maint")
    Host.objects.filter(name="maint").update(state=HostState.CORDONED)
    assert Host.beat("maint").state == HostState.CORDONED


def test_the_sweeper_runs_the_check_often_enough(settings):
    # unreachable within a minute: the limit plus one sweep period must stay under 60 s
    assert settings.WHARF_UNREACHABLE_AFTER + settings.WHARF_UNREACHABLE_CHECK_SECONDS <= 60


def test_a_judgement_kept_waiting_by_the_database_condemns_nobody(transactional_db, settings):
    """The sweeper's look and mark are one transaction on the hosts' rows; when another
    writer holds them for longer than a beat's interval (the site's database away, its
    beats waiting in line too), the judgement is void and says why, and the host stays
    online; once the database is free, the same silence is judged."""
    import threading

    import pytest
    from django.db import connection, transaction

    from webapp.fleet.models import DatabaseKeptWaiting

    settings.WHARF_UNREACHABLE_AFTER = 45
    settings.WHARF_HEARTBEAT_SECONDS = 1
    Host.beat("held")
    Host.objects.filter(name="held").update(last_heartbeat=timezone.now() - timedelta(seconds=60))
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        try:
            with transaction.atomic():
                Host.objects.select_for_update().filter(name="held").update(facts={"w": 1})
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(10)
        threading.Timer(2.5, release.set).start()
        with pytest.raises(Exception) as info:
            Host.mark_unreachable()
    finally:
        release.set()
        thread.join(30)
    # PostgreSQL waits for the row and says how long; SQLite's shared test database
    # refuses at once ("locked"): either way nothing was judged
    assert isinstance(info.value, DatabaseKeptWaiting) or "locked" in str(info.value), info.value
    assert Host.objects.get(name="held").state == HostState.ONLINE
    assert Host.mark_unreachable() == ["held"]
