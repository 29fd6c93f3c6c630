"""Docker's health-check state rules, without containers (runtime.agent.health)."""

from __future__ import annotations

from runtime.agent.health import apply_result, check_argv, initial_state, timing

S = 10**9


def result(code: int) -> dict:
    return {"Start": "", "End": "", "ExitCode": code, "Output": ""}


def step(state: dict, code: int, *, at: float, retries: int = 2, start_period: float = 0.0):
    return apply_result(
        state,
        result(code),
        retries=retries,
        start_period=start_period,
        started_ns=0,
        probe_start_ns=int(at * S),
    )


def test_commands_and_defaults():
    assert check_argv(["CMD", "curl", "-f", "x"]) == ["curl", "-f", "x"]
    assert check_argv(["CMD-SHELL", "test -e /ok"]) == ["/bin/sh", "-c", "test -e /ok"]
    assert timing({"Test": ["CMD", "true"]}) == (30.0, 30.0, 0.0, 3)
    assert timing({"Interval": S // 2, "Retries": 5}) == (0.5, 30.0, 0.0, 5)


def test_starting_then_healthy_then_unhealthy_after_retries_then_healthy():
    state = initial_state()
    state = step(state, 0, at=1)
    assert state["Status"] == "healthy"
    state = step(state, 1, at=2)
    assert (state["Status"], state["FailingStreak"]) == ("healthy", 1)
    state = step(state, 1, at=3)
    assert (state["Status"], state["FailingStreak"]) == ("unhealthy", 2)
    state = step(state, 0, at=4)
    assert (state["Status"], state["FailingStreak"]) == ("healthy", 0)


def test_failures_in_the_start_period_do_not_count():
    state = initial_state()
    for at in (1, 2, 3):
        state = step(state, 1, at=at, start_period=5)
    assert (state["Status"], state["FailingStreak"]) == ("starting", 0)
    state = step(state, 1, at=6, start_period=5)
    state = step(state, 1, at=7, start_period=5)
    assert state["Status"] == "unhealthy"


def test_only_the_last_five_results_are_kept():
    state = initial_state()
    for at in range(8):
        state = step(state, at % 2, at=at)
    assert len(state["Log"]) == 5
