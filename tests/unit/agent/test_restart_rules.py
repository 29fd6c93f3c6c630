"""Docker's restart-policy rules, without containers (runtime.agent.restarts)."""

from __future__ import annotations

import pytest

from runtime.agent.restarts import (
    FIRST_DELAY,
    MAX_DELAY,
    RestartPolicy,
    next_delay,
    parse_policy,
    should_restart,
)
from runtime.containers.model import ContainerSpec
from runtime.errors import InvalidArgument


def test_policies_parse_as_docker_names_them():
    assert parse_policy("") == RestartPolicy("no")
    assert parse_policy("always") == RestartPolicy("always")
    assert parse_policy("unless-stopped") == RestartPolicy("unless-stopped")
    assert parse_policy("on-failure") == RestartPolicy("on-failure", 0)
    assert parse_policy("on-failure:3") == RestartPolicy("on-failure", 3)
    for bad in ("sometimes", "always:3", "on-failure:x", "on-failure:-1"):
        with pytest.raises(InvalidArgument):
            parse_policy(bad)


def test_a_policy_cannot_go_with_rm():
    with pytest.raises(InvalidArgument, match="--restart and --rm"):
        ContainerSpec(image="busybox", restart="always", auto_remove=True).validate()
    ContainerSpec(image="busybox", restart="no", auto_remove=True).validate()


def test_which_exits_are_restarted():
    always, unless = RestartPolicy("always"), RestartPolicy("unless-stopped")
    on_failure = RestartPolicy("on-failure", 3)
    assert should_restart(always, 0, False, 100)
    assert should_restart(unless, 0, False, 0)
    assert not should_restart(RestartPolicy("no"), 1, False, 0)
    # a person's stop or kill ends every policy
    assert not should_restart(always, 137, True, 0)
    assert not should_restart(unless, 137, True, 0)
    # on-failure: non-zero codes only, and at most N restarts
    assert not should_restart(on_failure, 0, False, 0)
    assert should_restart(on_failure, 1, False, 2)
    assert not should_restart(on_failure, 1, False, 3)
    assert should_restart(RestartPolicy("on-failure", 0), 1, False, 1000)


def test_the_delay_doubles_and_resets_after_a_long_run():
    delays, delay = [], 0.0
    for _ in range(4):
        delay = next_delay(delay, ran_for=0.5)
        delays.append(delay)
    assert delays == [FIRST_DELAY, 0.2, 0.4, 0.8]
    assert next_delay(0.8, ran_for=10.0) == FIRST_DELAY
    assert next_delay(MAX_DELAY, ran_for=1.0) == MAX_DELAY
