"""The event stream's pure parts: Docker's JSON shape, filters, and time arguments."""

from __future__ import annotations

import pytest

from runtime.errors import InvalidArgument
from runtime.events import Event, EventFilter
from runtime.timefmt import ns_to_rfc3339, parse_point_in_time, rfc3339_ns

DIE = Event(
    7,
    1_700_000_000_123_456_789,
    "container",
    "die",
    "c" * 64,
    {
        "exitCode": "3",
        "image": "busybox",
        "name": "web",
        "team": "blue",
    },
)


def test_docker_json_shape():
    assert DIE.docker() == {
        "status": "die",
        "id": "c" * 64,
        "from": "busybox",
        "Type": "container",
        "Action": "die",
        "Actor": {"ID": "c" * 64, "Attributes": dict(DIE.attributes)},
        "scope": "local",
        "time": 1_700_000_000,
        "timeNano": 1_700_000_000_123_456_789,
    }
    net = Event(8, 1, "network", "create", "n1", {"name": "web", "type": "bridge"}).docker()
    assert "status" not in net and net["Type"] == "network"
    assert DIE.text().endswith("(exitCode=3, image=busybox, name=web, team=blue)")


def test_filters_and_within_keys_or_across_them():
    assert EventFilter(["type=container", "event=die"]).matches(DIE)
    assert EventFilter(["event=start", "event=die"]).matches(DIE)
    assert not EventFilter(["type=image"]).matches(DIE)
    assert EventFilter(["container=web"]).matches(DIE)
    assert EventFilter(["container=cccc"]).matches(DIE)  # an id prefix
    assert not EventFilter(["container=api"]).matches(DIE)
    assert EventFilter(["label=team"]).matches(DIE)
    assert EventFilter(["label=team=blue"]).matches(DIE)
    assert not EventFilter(["label=team=red"]).matches(DIE)
    assert EventFilter(["image=busybox"]).matches(DIE)
    health = Event(9, 1, "container", "health_status: healthy", "c", {})
    assert EventFilter(["event=health_status"]).matches(health)
    with pytest.raises(InvalidArgument):
        EventFilter(["colour=red"])
    with pytest.raises(InvalidArgument):
        EventFilter(["type=plugin"])


def test_points_in_time():
    now = 2_000_000_000 * 10**9
    assert parse_point_in_time("1700000000", now) == 1_700_000_000 * 10**9
    assert parse_point_in_time("1700000000.5", now) == 1_700_000_000_500_000_000
    assert parse_point_in_time("10m", now) == now - 600 * 10**9
    assert parse_point_in_time("2023-11-14T22:13:20Z", now) == 1_700_000_000 * 10**9
    assert rfc3339_ns("2023-11-15T00:13:20+02:00") == 1_700_000_000 * 10**9
    assert rfc3339_ns(ns_to_rfc3339(DIE.time_nano)) == DIE.time_nano
    with pytest.raises(InvalidArgument):
        parse_point_in_time("yesterday", now)
