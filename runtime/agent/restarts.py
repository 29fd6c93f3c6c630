"""Docker's restart policies: which exit is followed by a start, and after how long.

Pure rules, no I/O, so they are tested alone (tests/unit/agent/test_restart_rules.py);
the host agent's supervisor (``runtime.agent.supervisor``) applies them. They
follow moby's restartmanager: the delay starts at 100 ms and doubles after
each restart up to one minute, and goes back to 100 ms once a run lasted
10 s; ``on-failure:N`` allows N restarts counted since a person last started
the container; a container stopped or killed by a person is not restarted.
"""

from __future__ import annotations

from dataclasses import dataclass

from runtime.errors import InvalidArgument

FIRST_DELAY = 0.1
MAX_DELAY = 60.0
#: a run at least this long (seconds) resets the delay to FIRST_DELAY
RESET_AFTER = 10.0
NAMES = ("no", "always", "on-failure", "unless-stopped")


@dataclass(frozen=True)
class RestartPolicy:
    """A parsed ``--restart`` value: Docker's RestartPolicy {Name, MaximumRetryCount}."""

    name: str
    max_retries: int = 0  # on-failure only; 0 means no limit


def parse_policy(text: str) -> RestartPolicy:
    """Parse ``no``, ``always``, ``unless-stopped`` or ``on-failure[:N]`` (empty means no)."""
    name, sep, count = (text or "no").partition(":")
    if name not in NAMES:
        raise InvalidArgument(
            f"invalid restart policy {text!r}: use no, always, unless-stopped or on-failure[:N]"
        )
    if not sep:
        return RestartPolicy(name)
    if name != "on-failure":
        raise InvalidArgument(
            f"invalid restart policy {text!r}: maximum retry count cannot be used with "
            f"restart policy '{name}'"
        )
    if not count.isdigit():
        raise InvalidArgument(f"invalid restart policy {text!r}: the retry count must be a number")
    return RestartPolicy(name, int(count))


def should_restart(
    policy: RestartPolicy, exit_code: int, manually_stopped: bool, restart_count: int
) -> bool:
    """Tell whether an exit is followed by a start under ``policy``."""
    if manually_stopped or policy.name == "no":
        return False
    if policy.name == "on-failure":
        under_limit = policy.max_retries == 0 or restart_count < policy.max_retries
        return exit_code != 0 and under_limit
    return True  # always, unless-stopped


def next_delay(previous: float, ran_for: float) -> float:
    """The wait before the next start: 100 ms first, doubling, back to 100 ms after a 10 s run."""
    if previous <= 0 or ran_for >= RESET_AFTER:
        return FIRST_DELAY
    return min(previous * 2, MAX_DELAY)
