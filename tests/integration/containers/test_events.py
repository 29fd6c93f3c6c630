"""The durable event stream: Docker's names and shapes, replay with --since, and a cursor
that loses nothing across a restart of the host agent (runtime.events)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def wait_for(predicate, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _events_after_exit(wharf, start: float, kind: str, *actions: str, count: int) -> list[dict]:
    """The KIND events of ACTIONS since START, once COUNT are in: as with Docker, a wait
    may return as the exit is being recorded, and the exit's events follow it."""

    def read() -> list[dict]:
        filters = [f"--filter=type={kind}", *(f"--filter=event={a}" for a in actions)]
        out = wharf(
            "events", "--since", str(start), "--until", str(time.time()), "--format", "json",
            *filters,
        ).stdout  # fmt: skip
        return [json.loads(line) for line in out.splitlines()]

    wait_for(lambda: len(read()) >= count, f"the exit's {kind} events")
    return read()


def kill_agent(paths) -> None:
    """SIGKILL the host agent of a test root and wait until it is gone."""
    pid = int((paths.run / "agent.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not Path(f"/proc/{pid}").exists(), "the agent to die")


def test_since_replays_what_happened_while_nobody_listened(wharf):
    start = time.time()
    cid = wharf(
        "run",
        "-d",
        "--name",
        "ev",
        "--label",
        "team=blue",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 0' TERM; while true; do sleep 0.1; done",
    ).stdout.strip()
    wharf("pause", "ev")
    wharf("unpause", "ev")
    wharf("exec", "ev", "true")
    wharf("rename", "ev", "ev2")
    wharf("stop", "-t", "10", "ev2")
    wharf("rm", "ev2")
    out = wharf(
        "events",
        "--since",
        str(start - 1),
        "--until",
        str(time.time()),
        "--format",
        "json",
        "--filter",
        "type=container",
    ).stdout
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["Action"] for e in events] == [
        "create",
        "start",
        "pause",
        "unpause",
        "exec_start: true",
        "exec_die",
        "rename",
        "kill",
        "die",
        "stop",
        "destroy",
    ]
    for e in events:
        assert e["Type"] == "container" and e["scope"] == "local"
        assert e["Actor"]["ID"] == cid and e["id"] == cid and e["status"] == e["Action"]
        assert e["Actor"]["Attributes"]["team"] == "blue"
        assert e["Actor"]["Attributes"]["image"] == "busybox" == e["from"]
        assert e["time"] == e["timeNano"] // 10**9
    names = [e["Actor"]["Attributes"]["name"] for e in events]
    assert names[:6] == ["ev"] * 6 and names[6:] == ["ev2"] * 5
    by_action = {e["Action"]: e["Actor"]["Attributes"] for e in events}
    assert by_action["die"]["exitCode"] == "0"
    assert by_action["kill"]["signal"] == "15"
    assert by_action["rename"]["oldName"] == "ev"
    assert by_action["exec_die"]["exitCode"] == "0"
    assert [e["timeNano"] for e in events] == sorted(e["timeNano"] for e in events)
    # the text form, and filters that keep only some
    text = wharf(
        "events", "--since", str(start - 1), "--until", str(time.time()), "-f", "event=die"
    )
    (line,) = text.stdout.splitlines()
    assert f" container die {cid} (" in line and "exitCode=0" in line and "team=blue" in line


def test_die_is_recorded_when_no_command_runs(rt, busybox_image):
    """The host agent records an exit by itself; this test only reads the stream."""
    from runtime.containers.model import ContainerSpec

    cursor = rt.events.last_id()
    c = rt.containers.create(
        ContainerSpec(image="busybox", cmd=["sh", "-c", "sleep 0.5; exit 4"], network="none")
    )
    rt.containers.start(c.id)
    for event in rt.events.follow(cursor, filters=[f"container={c.id}", "event=die"]):
        assert event.attributes["exitCode"] == "4"
        break
    assert rt.containers._find(c.id).status == "exited"


def test_the_cli_follows_new_events(wharf):
    start = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli.main", "events", "--since", str(start)]
        + ["--format", "json", "--filter", "type=container"],
        cwd=REPO,
        env=wharf.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        cid = wharf("run", "-d", "--network", "none", "busybox", "sh", "-c", "exit 5").stdout
        seen = []
        while not seen or seen[-1]["Action"] != "die":
            seen.append(json.loads(proc.stdout.readline()))
        assert [e["Action"] for e in seen] == ["create", "start", "die"]
        assert seen[-1]["Actor"]["ID"] == cid.strip()
        assert seen[-1]["Actor"]["Attributes"]["exitCode"] == "5"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_cursor_resumed_after_an_agent_restart_loses_nothing(wharf, wharf_paths, rt):
    cursor = rt.events.last_id()
    ids = [
        wharf(
            "run", "-d", "--network", "none", "busybox", "sh", "-c", f"sleep 1; exit {n}"
        ).stdout.strip()
        for n in (1, 2, 3)
    ]
    pids = [json.loads(wharf("inspect", i).stdout)[0]["State"]["Pid"] for i in ids]
    kill_agent(wharf_paths)
    # the containers exit while no agent runs and no command reads them
    wait_for(lambda: not any(Path(f"/proc/{p}").exists() for p in pids), "the exits")
    seen: list = []
    for event in rt.events.follow(cursor):  # starts the agent again, which takes over
        seen.append(event)
        if sum(e.action == "die" for e in seen) == 3:
            break
    for n, cid in enumerate(ids, 1):
        mine = [e for e in seen if e.actor_id == cid]
        assert [e.action for e in mine] == ["create", "start", "die"]
        assert mine[-1].attributes["exitCode"] == str(n)
    assert [e.id for e in seen] == sorted({e.id for e in seen})
    # a second reader resuming from the same cursor reads exactly the same events
    assert [e.id for e in rt.events.since(cursor)][: len(seen)] == [e.id for e in seen]


def test_images_networks_and_volumes_have_events_too(wharf, tmp_path):
    start = time.time()
    wharf("tag", "busybox", "copy:1")
    wharf("rmi", "copy:1")
    wharf("save", "-o", str(tmp_path / "b.tar"), "busybox")
    wharf("load", "-i", str(tmp_path / "b.tar"))
    net = wharf("network", "create", "evnet").stdout.strip()
    wharf("network", "rm", "evnet")
    wharf("volume", "create", "evvol")
    wharf("volume", "rm", "evvol")
    tiny = tmp_path / "tiny.tar"
    with tarfile.open(tiny, "w") as tar:
        info = tarfile.TarInfo("hello")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    imported = wharf("import", str(tiny), "tiny:1").stdout.strip()
    wharf("rmi", "tiny:1")
    out = wharf("events", "--since", str(start), "--until", str(time.time()), "--format", "json")
    events = [json.loads(line) for line in out.stdout.splitlines()]
    got = [(e["Type"], e["Action"]) for e in events]
    assert got == [
        ("image", "tag"),
        ("image", "untag"),
        ("image", "save"),
        ("image", "load"),
        ("network", "create"),
        ("network", "destroy"),
        ("volume", "create"),
        ("volume", "destroy"),
        ("image", "import"),
        ("image", "untag"),
        ("image", "delete"),
    ]
    assert {e["Actor"]["ID"] for e in events[-3:]} == {imported}
    events = events[:-3]
    image_id = json.loads(wharf("image", "inspect", "busybox").stdout)[0]["Id"]
    assert {e["Actor"]["ID"] for e in events if e["Type"] == "image"} == {image_id}
    assert events[4]["Actor"] == {"ID": net, "Attributes": {"name": "evnet", "type": "bridge"}}
    assert events[6]["Actor"] == {"ID": "evvol", "Attributes": {"driver": "local"}}
    only = wharf("events", "--since", str(start), "--until", str(time.time()), "-f", "type=volume")
    assert len(only.stdout.splitlines()) == 2


def test_a_start_connects_and_an_exit_disconnects_the_networks(wharf):
    start = time.time()
    net = wharf("network", "create", "evlan").stdout.strip()
    other = wharf("network", "create", "evlan2").stdout.strip()
    cid = wharf(
        "run", "-d", "--name", "evc", "--network", "evlan", "busybox", "sleep", "300"
    ).stdout.strip()
    wharf("network", "connect", "evlan2", "evc")
    wharf("network", "disconnect", "evlan2", "evc")
    wharf("kill", "evc")
    wharf("wait", "evc")

    events = _events_after_exit(wharf, start, "network", "connect", "disconnect", count=4)
    assert [(e["Action"], e["Actor"]["ID"]) for e in events] == [
        ("connect", net),
        ("connect", other),
        ("disconnect", other),
        ("disconnect", net),
    ]
    for e in events:
        assert e["Type"] == "network" and "status" not in e
        assert e["Actor"]["Attributes"]["container"] == cid
        assert e["Actor"]["Attributes"]["type"] == "bridge"
    assert events[0]["Actor"]["Attributes"]["name"] == "evlan"
    # as Docker's: connect before the start, disconnect after the die
    both = wharf(
        "events", "--since", str(start), "--until", str(time.time()), "--format", "json",
        "--filter", "event=start", "--filter", "event=die", "--filter", "event=connect",
        "--filter", "event=disconnect",
    ).stdout  # fmt: skip
    got = [json.loads(line)["Action"] for line in both.splitlines()]
    assert got == ["connect", "start", "connect", "disconnect", "die", "disconnect"]


def test_a_start_mounts_and_an_exit_unmounts_the_volumes(wharf):
    start = time.time()
    wharf("volume", "create", "evdata")
    cid = wharf(
        "run", "-d", "--network", "none", "-v", "evdata:/data:ro", "-v", "/srv",
        "busybox", "sleep", "300",
    ).stdout.strip()  # fmt: skip
    anonymous = json.loads(wharf("inspect", cid).stdout)[0]["Mounts"]
    anon = next(m["Name"] for m in anonymous if m["Destination"] == "/srv")
    wharf("kill", cid)
    wharf("wait", cid)

    events = _events_after_exit(wharf, start, "volume", "mount", "unmount", count=4)
    got = sorted((e["Action"], e["Actor"]["ID"]) for e in events)
    # sorted both sides: the anonymous volume's random id sorts before "evdata" or after it
    assert got == sorted(
        [("mount", anon), ("mount", "evdata"), ("unmount", anon), ("unmount", "evdata")]
    )
    mount = next(e for e in events if e["Action"] == "mount" and e["Actor"]["ID"] == "evdata")
    assert mount["Actor"]["Attributes"] == {
        "container": cid,
        "destination": "/data",
        "driver": "local",
        "propagation": "",
        "read/write": "false",
    }
    unmount = next(e for e in events if e["Action"] == "unmount")
    assert unmount["Actor"]["Attributes"] == {"container": cid, "driver": "local"}
    # as Docker's: mounted before the start, unmounted after the die
    order = wharf(
        "events", "--since", str(start), "--until", str(time.time()), "--format", "json",
        "--filter", "event=start", "--filter", "event=die", "--filter", "event=mount",
        "--filter", "event=unmount",
    ).stdout  # fmt: skip
    actions = [json.loads(line)["Action"] for line in order.splitlines()]
    assert actions == ["mount", "mount", "start", "die", "unmount", "unmount"]
