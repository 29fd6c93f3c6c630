"""``docker top``, ``docker stats`` and ``docker diff`` through the Engine API
(``/containers/{id}/top``, ``/stats``, ``/changes``), with the real docker CLI and
docker-py, on real containers."""

from __future__ import annotations

import re
import time

import pytest


def wait_file(docker, ctr: str, path: str) -> None:
    deadline = time.monotonic() + 15
    while docker("exec", ctr, "test", "-e", path, check=False).returncode != 0:
        assert time.monotonic() < deadline, f"{path} never appeared in {ctr}"
        time.sleep(0.1)


def test_docker_top_lists_the_containers_processes(docker, client, wharf) -> None:
    docker("run", "-d", "--name", "top1", "busybox", "sh", "-c", "sleep 301")
    out = docker("top", "top1").stdout.splitlines()
    assert out[0].split()[:3] == ["UID", "PID", "PPID"]
    assert any("sleep 301" in line for line in out[1:])
    assert len(out) == 2  # its own process only, none of the host's
    out = docker("top", "top1", "-o", "pid,comm").stdout.splitlines()
    assert out[0].split() == ["PID", "COMMAND"] and out[1].split()[1] == "sleep"
    top = client.containers.get("top1").top(ps_args="aux")
    assert "USER" in top["Titles"] and len(top["Processes"]) == 1
    proc = docker("top", "top1", "--no-such-ps-flag", check=False)
    assert proc.returncode == 1 and "Error running ps" in proc.stderr
    proc = docker("top", "top1", "-o", "comm", check=False)
    assert proc.returncode == 1 and "PID field" in proc.stderr
    docker("run", "--name", "top2", "busybox", "true")
    proc = docker("top", "top2", check=False)
    assert proc.returncode == 1 and "is not running" in proc.stderr


def test_docker_stats_no_stream_shows_cpu_and_memory(docker) -> None:
    docker("run", "-d", "--name", "busy", "-m", "64m", "busybox", "sh", "-c", "while :; do :; done")
    docker("run", "-d", "--name", "idle", "busybox", "sleep", "300")
    out = docker(
        "stats", "--no-stream", "--format",
        "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.PIDs}}|{{.BlockIO}}", "busy", "idle",
    ).stdout.splitlines()  # fmt: skip
    rows = {line.split("|")[0]: line.split("|") for line in out}
    assert set(rows) == {"busy", "idle"}
    busy_cpu = float(rows["busy"][1].rstrip("%"))
    # a shell spinning: the delta of two samples (a share of a loaded machine's CPUs)
    assert busy_cpu > 10, rows["busy"]
    assert float(rows["idle"][1].rstrip("%")) < 5
    used, limit = rows["busy"][2].split(" / ")
    assert limit == "64MiB" and re.fullmatch(r"[\d.]+(B|KiB|MiB)", used)
    assert float(rows["busy"][3].rstrip("%")) > 0 and rows["busy"][4] == "1"
    table = docker("stats", "--no-stream", "idle").stdout
    assert "CPU %" in table.splitlines()[0] and "MEM USAGE / LIMIT" in table


def test_stats_shapes_through_docker_py(client, docker) -> None:
    docker("run", "-d", "--name", "st1", "busybox", "sleep", "300")
    c = client.containers.get("st1")
    one = c.stats(stream=False)
    assert one["id"] == c.id and one["name"] == "/st1"
    assert (
        one["cpu_stats"]["cpu_usage"]["total_usage"]
        >= (one["precpu_stats"]["cpu_usage"]["total_usage"])
    )
    assert one["precpu_stats"]["system_cpu_usage"] < one["cpu_stats"]["system_cpu_usage"]
    assert one["memory_stats"]["usage"] > 0 and one["pids_stats"]["current"] == 1
    shot = client.api.stats(c.id, stream=False, one_shot=True)
    assert shot["preread"] == "0001-01-01T00:00:00Z" and shot["read"] != shot["preread"]
    stream = c.stats(stream=True, decode=True)
    first, second = next(stream), next(stream)
    stream.close()
    assert second["precpu_stats"] == first["cpu_stats"] and second["preread"] == first["read"]
    docker("stop", "-t", "0", "st1")
    empty = c.stats(stream=False)
    assert empty["read"] == "0001-01-01T00:00:00Z" and empty["memory_stats"] == {}
    import docker as docker_py

    with pytest.raises(docker_py.errors.NotFound):
        client.api.stats("nosuch", stream=False)


def test_stats_count_each_interface_as_dockerd(client, docker) -> None:
    """``networks`` has each interface of the container's namespace (loopback aside) with
    Docker's byte, packet, error and drop counters; none for ``--network none``."""
    docker(
        "run", "-d", "--name", "pinger", "busybox", "sh", "-c",
        "ping -c 3 -i 0.2 $(ip route | awk '/default/ {print $3}') > /dev/null; touch /ready;"
        " sleep 300",
    )  # fmt: skip
    wait_file(docker, "pinger", "/ready")
    nets = client.containers.get("pinger").stats(stream=False)["networks"]
    assert set(nets) == {"eth0"}, nets
    eth0 = nets["eth0"]
    assert set(eth0) == {
        "rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
        "tx_bytes", "tx_packets", "tx_errors", "tx_dropped",
    }  # fmt: skip
    assert eth0["tx_packets"] >= 3 and eth0["rx_packets"] >= 3, eth0
    assert eth0["tx_bytes"] >= 3 * 84 and eth0["rx_bytes"] >= 3 * 84, eth0  # 3 echo requests
    row = docker("stats", "--no-stream", "--format", "{{.NetIO}}", "pinger").stdout.strip()
    assert re.fullmatch(r"[\d.]+(B|kB) / [\d.]+(B|kB)", row) and not row.startswith("0B"), row
    docker("run", "-d", "--name", "alone", "--network", "none", "busybox", "sleep", "300")
    assert "networks" not in client.containers.get("alone").stats(stream=False)


def test_docker_diff_lists_the_changes(docker, client, wharf) -> None:
    docker(
        "run", "-d", "--name", "df1", "busybox", "sh", "-c",
        "echo new > /new && mkdir -p /srv/made && rm /bin/echo && touch /ready; sleep 300",
    )  # fmt: skip
    wait_file(docker, "df1", "/ready")
    out = docker("diff", "df1").stdout
    assert out == wharf("diff", "df1").stdout  # one walk, two doors
    lines = out.splitlines()
    assert {"A /new", "C /bin", "D /bin/echo", "A /srv/made"} <= set(lines)
    kinds = {c["Path"]: c["Kind"] for c in client.containers.get("df1").diff()}
    assert kinds["/new"] == 1 and kinds["/bin"] == 0 and kinds["/bin/echo"] == 2
    proc = docker("diff", "nosuch", check=False)
    assert proc.returncode == 1 and "nosuch" in proc.stderr


def test_docker_stats_streams_a_sample_each_second(docker, docker_host) -> None:
    import os
    import subprocess

    docker("run", "-d", "--name", "live", "busybox", "sh", "-c", "while :; do :; done")
    env = {**os.environ, "DOCKER_HOST": docker_host, "DOCKER_CONFIG": "/nonexistent-wharf"}
    proc = subprocess.run(
        [
            "timeout",
            "-s",
            "KILL",
            "8",  # time for two redraws, with the CLI's start, on a loaded machine
            "docker",
            "stats",
            "--format",
            "{{.Name}} {{.CPUPerc}}",
            "live",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )  # the CLI redraws until it is killed (it ignores SIGTERM while streaming)
    samples = re.findall(r"live ([\d.]+)%", proc.stdout)
    assert len(samples) >= 4, proc.stdout  # each redraw prints the row twice
    assert max(float(s) for s in samples) > 10  # later frames carry the previous sample
