"""``docker update``, ``docker container prune``, ``docker volume prune`` and ``docker system
df`` through the Engine API, with the real docker CLI and docker-py on real containers."""

from __future__ import annotations

import json

import pytest


def test_docker_update_changes_a_running_containers_limits(docker, client, wharf) -> None:
    docker("run", "-d", "--name", "up1", "busybox", "sleep", "300")
    docker("update", "--memory", "64m", "--cpus", "0.5", "--restart", "on-failure:2", "up1")
    host = json.loads(wharf("inspect", "-f", "{{json .HostConfig}}", "up1").stdout)
    assert host["Memory"] == 64 * 2**20 and host["NanoCpus"] == 500_000_000
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    # the live cgroup has the new limit: the stats the daemon reads say so
    usage = docker("stats", "--no-stream", "--format", "{{.MemUsage}}", "up1").stdout
    assert usage.strip().endswith("/ 64MiB")
    docker("update", "--memory", "96m", "up1")  # the other limits stay as they were
    host = json.loads(wharf("inspect", "-f", "{{json .HostConfig}}", "up1").stdout)
    assert host["Memory"] == 96 * 2**20 and host["NanoCpus"] == 500_000_000
    docker("update", "--pids-limit", "50", "up1")
    assert wharf("inspect", "-f", "{{.HostConfig.PidsLimit}}", "up1").stdout.strip() == "50"
    assert client.api.update_container("up1", cpu_shares=512) == {"Warnings": []}
    assert wharf("inspect", "-f", "{{.HostConfig.CpuShares}}", "up1").stdout.strip() == "512"

    before = wharf("inspect", "-f", "{{json .HostConfig}}", "up1").stdout
    proc = docker("update", "--memory", "1k", "up1", check=False)
    assert proc.returncode == 1 and "minimum memory limit" in proc.stderr.lower()
    assert wharf("inspect", "-f", "{{json .HostConfig}}", "up1").stdout == before
    proc = docker("update", "--memory", "64m", "nosuch", check=False)
    assert proc.returncode == 1 and "nosuch" in proc.stderr
    reply = client.api.post(client.api._url("/containers/up1/update"), data=b"[1]")
    assert reply.status_code == 400 and reply.json()["message"]
    reply = client.api.post(
        client.api._url("/containers/up1/update"), data=json.dumps({"Memory": "lots"})
    )
    assert reply.status_code == 400 and "invalid update" in reply.json()["message"]


def test_container_prune_removes_stopped_ones_by_filter(docker, client, wharf) -> None:
    docker("run", "-d", "--name", "keep", "busybox", "sleep", "300")
    docker("run", "--name", "gone1", "busybox", "sh", "-c", "head -c 100000 /dev/zero > /f")
    docker("run", "--name", "kept", "--label", "stay=1", "busybox", "true")
    gone1 = wharf("inspect", "-f", "{{.Id}}", "gone1").stdout.strip()
    out = docker("container", "prune", "-f", "--filter", "label!=stay").stdout
    assert out.startswith(f"Deleted Containers:\n{gone1}\n\nTotal reclaimed space: ")
    assert sorted(wharf("ps", "-a", "--format", "{{.Names}}").stdout.split()) == ["keep", "kept"]
    report = client.containers.prune(filters={"until": "1h"})  # made within the hour: kept
    assert report == {"ContainersDeleted": None, "SpaceReclaimed": 0}
    report = client.containers.prune(filters={"label": ["stay=1"]})
    assert len(report["ContainersDeleted"]) == 1
    assert wharf("ps", "-a", "--format", "{{.Names}}").stdout.split() == ["keep"]
    proc = docker("container", "prune", "-f", "--filter", "nope=1", check=False)
    assert proc.returncode == 1 and "Invalid filter 'nope'" in proc.stderr
    assert wharf("ps", "-a", "--format", "{{.Names}}").stdout.split() == ["keep"]


def test_volume_prune_removes_unused_volumes(docker, client, wharf) -> None:
    docker("volume", "create", "used")
    docker("volume", "create", "unused")
    docker("volume", "create", "--label", "keep=1", "labelled")
    docker("run", "-d", "--name", "user", "-v", "used:/data", "busybox", "sleep", "300")
    docker(
        "run", "--name", "filler", "-v", "unused:/data", "busybox", "sh", "-c",
        "head -c 50000 /dev/zero > /data/f",
    )  # fmt: skip
    docker("rm", "filler")
    proc = docker("volume", "prune", "--filter", "until=1h", "-f", check=False)
    assert proc.returncode == 1 and "Invalid filter 'until'" in proc.stderr
    report = client.volumes.prune(filters={"label!": "keep"})
    assert report["VolumesDeleted"] == ["unused"] and report["SpaceReclaimed"] >= 50000
    out = docker("volume", "prune", "-f").stdout
    assert "labelled" in out and "Total reclaimed space" in out
    assert wharf("volume", "ls", "-q").stdout.split() == ["used"]
    assert client.volumes.prune() == {"VolumesDeleted": None, "SpaceReclaimed": 0}


def test_docker_system_df_matches_wharf_system_df(docker, client, wharf) -> None:
    docker("volume", "create", "dfvol")
    docker(
        "run", "-d", "--name", "dfrun", "-v", "dfvol:/data", "busybox", "sh", "-c",
        "head -c 30000 /dev/zero > /data/f; head -c 20000 /dev/zero > /w; sleep 300",
    )  # fmt: skip
    docker("run", "--name", "dfstop", "busybox", "true")
    assert docker("system", "df").stdout == wharf("system", "df").stdout
    lines = docker("system", "df").stdout.splitlines()
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["Images"][1:3] == ["1", "1"] and rows["Containers"][1:3] == ["2", "1"]
    assert rows["Local"][2:4] == ["1", "1"]
    verbose = docker("system", "df", "-v").stdout
    for text in ("Images space usage:", "dfrun", "dfstop", "dfvol", "Build cache usage: 0B"):
        assert text in verbose
    df = client.df()
    assert {c["Names"][0] for c in df["Containers"]} == {"/dfrun", "/dfstop"}
    run = next(c for c in df["Containers"] if c["Names"] == ["/dfrun"])
    assert run["SizeRw"] >= 20000 and run["State"] == "running" and run["Image"] == "busybox"
    (vol,) = df["Volumes"]
    assert vol["Name"] == "dfvol" and vol["UsageData"]["RefCount"] == 1
    assert vol["UsageData"]["Size"] >= 30000 and vol["Driver"] == "local"
    (img,) = df["Images"]
    assert img["Containers"] == 2 and img["RepoTags"] == ["busybox:latest"]
    assert df["LayersSize"] > 0 and df["BuildCache"] == []


@pytest.mark.parametrize("path", ["/containers/prune", "/volumes/prune"])
def test_prune_refuses_bad_filters_json(client, path: str) -> None:
    reply = client.api.post(client.api._url(path), params={"filters": "{not json"})
    assert reply.status_code == 400 and "invalid filter" in reply.json()["message"]
