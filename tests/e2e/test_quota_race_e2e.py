"""Two ASGI processes of the real site, six requests at once for a team whose quota leaves
room for one container: one is accepted, five are refused saying which quota.

The check counts the team's containers and records the new job in one
transaction, holding the team's quota row (``select_for_update``; SQLite's
write lock in the embedded set-up): without it, each request counts before
any has recorded its job, and all pass.
"""

from __future__ import annotations

import threading
import uuid

import httpx
import pytest


@pytest.fixture(scope="module")
def second_web(stack) -> str:
    return stack.start_web("web-quota")


def test_requests_at_once_cannot_all_pass_the_quota(stack, host_env, second_web):
    team, user = f"q{uuid.uuid4().hex[:6]}", f"u{uuid.uuid4().hex[:6]}"
    stack.manage("teams", "create", team)
    stack.manage("teams", "add", team, user, "operator")
    stack.manage("teams", "quota", team, "--containers", "1")
    stack.manage("teams", "grant", team, stack.host_name)
    token = stack.manage("tokens", "create", user).strip()
    start = threading.Barrier(6)
    answers: list[tuple[int, dict]] = []

    def ask(base_url: str) -> None:
        with httpx.Client(base_url=base_url, timeout=120) as http:
            start.wait()
            r = http.post(
                "/api/v1/containers/",
                json={"image": "busybox:latest", "host": stack.host_name, "command": ["true"]},
                headers={"Authorization": f"Token {token}"},
            )
            answers.append((r.status_code, r.json()))

    threads = [threading.Thread(target=ask, args=(url,)) for url in (stack.web_url, second_web) * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(code for code, _ in answers) == [202, 400, 400, 400, 400, 400], answers
    refusals = {body["team"][0] for code, body in answers if code == 400}
    assert refusals == {f"team {team}: 1 of 1 containers in use; the quota is 1"}
    with stack.api() as api:  # the admin's token: every team's jobs
        jobs = api.get("/api/v1/jobs/", params={"search": team}).json()
    assert jobs["count"] == 1
