"""Exec instances of the Engine API are freed as dockerd frees them: soon after a client
saw one ended, at the latest ``api_exec_retention`` after it ended or was made, and
with their container; a running one never. Driven by docker-py and the docker CLI."""

from __future__ import annotations

import threading
import time

import pytest

from tests.integration.conftest import set_host_config

RETENTION = 3  # seconds, from the host config written before the agent starts
GRACE = 5  # runtime.engineapi.execrecords.INSPECTED_GRACE


@pytest.fixture(autouse=True)
def _short_retention(wharf_paths) -> None:
    set_host_config(wharf_paths, api_exec_retention=RETENTION)


def gone(client, exec_id: str) -> bool:
    import docker as docker_py

    try:
        client.api.exec_inspect(exec_id)
    except docker_py.errors.NotFound as exc:
        assert f"No such exec instance: {exec_id}" in exc.explanation
        return True
    return False


def test_inspected_execs_do_not_accumulate(client, docker) -> None:
    docker("run", "-d", "--name", "ex1", "busybox", "sleep", "300")
    ids = []
    for n in range(25):
        exec_id = client.api.exec_create("ex1", ["sh", "-c", f"exit {n % 3}"])["Id"]
        client.api.exec_start(exec_id)
        assert client.api.exec_inspect(exec_id)["ExitCode"] == n % 3  # the client's one look
        ids.append(exec_id)
    proc = docker("exec", "ex1", "sh", "-c", "exit 7", check=False)
    assert proc.returncode == 7  # the CLI's own create/start/inspect still sees its code
    assert client.api.exec_inspect(ids[-1])["Running"] is False  # still there just after
    time.sleep(max(GRACE, RETENTION) + 0.5)
    assert [i for i in ids if not gone(client, i)] == []


def test_unseen_and_unstarted_execs_expire_but_running_ones_stay(client, docker) -> None:
    docker("run", "-d", "--name", "ex2", "busybox", "sleep", "300")
    unseen = client.api.exec_create("ex2", ["true"])["Id"]
    client.api.exec_start(unseen)
    unstarted = client.api.exec_create("ex2", ["true"])["Id"]
    long = client.api.exec_create("ex2", ["sleep", str(RETENTION + 3)])["Id"]
    reader = threading.Thread(target=lambda: list(client.api.exec_start(long, stream=True)))
    reader.start()
    time.sleep(RETENTION + 1)
    assert gone(client, unseen) and gone(client, unstarted)
    assert client.api.exec_inspect(long)["Running"] is True  # running: never freed
    reader.join(30)
    assert client.api.exec_inspect(long)["ExitCode"] == 0
    proc = docker("exec", "ex2", "true", check=False)
    assert proc.returncode == 0


def test_a_removed_containers_execs_go_with_it(client, docker) -> None:
    docker("run", "-d", "--name", "ex3", "busybox", "sleep", "300")
    ended = client.api.exec_create("ex3", ["true"])["Id"]
    client.api.exec_start(ended)
    waiting = client.api.exec_create("ex3", ["true"])["Id"]
    docker("rm", "-f", "ex3")
    assert gone(client, ended) and gone(client, waiting)
