"""A host whose worker dies is shown unreachable by the sweeper, then online when it returns."""

from __future__ import annotations

import os
import signal

from e2e_stack import wait_for


def _state(stack, name: str) -> str | None:
    with stack.api() as api:
        r = api.get(f"/api/v1/hosts/{name}/")
        return r.json()["state"] if r.status_code == 200 else None


def test_a_silent_host_turns_unreachable_and_comes_back(stack):
    name = stack.host_name + "-b"
    stack.enroll(name)
    stack.start_worker("worker-b", name)
    wait_for(lambda: _state(stack, name) == "online", 60, f"{name} to register")

    proc = stack.procs["worker-b"]
    os.killpg(proc.pid, signal.SIGKILL)  # a crash: no goodbye, the beats just stop
    proc.wait()
    wait_for(lambda: _state(stack, name) == "unreachable", 30, f"{name} to be marked unreachable")

    stack.start_worker("worker-b2", name)
    wait_for(lambda: _state(stack, name) == "online", 60, f"{name} to come back online")
