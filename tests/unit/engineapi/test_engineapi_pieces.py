"""The Engine API's pure pieces: Go file modes, update bodies, exec-record freeing and a
request body read once, without a socket or a container."""

from __future__ import annotations

import io
import stat
import tarfile

import pytest

from runtime.engineapi import execrecords
from runtime.engineapi.archive import go_file_mode
from runtime.engineapi.execrecords import ExecRecords
from runtime.engineapi.http import HTTPError, Request
from runtime.engineapi.limits import _changes


def test_go_file_mode_puts_the_type_in_gos_bits() -> None:
    assert go_file_mode(stat.S_IFREG | 0o644) == 0o644
    assert go_file_mode(stat.S_IFDIR | 0o755) == (1 << 31) | 0o755
    assert go_file_mode(stat.S_IFLNK | 0o777) == (1 << 27) | 0o777
    assert go_file_mode(stat.S_IFCHR | 0o600) == (1 << 26) | (1 << 21) | 0o600
    assert go_file_mode(stat.S_IFREG | stat.S_ISUID | 0o755) == (1 << 23) | 0o755


def test_an_update_body_keeps_only_what_the_client_set() -> None:
    body = {
        "Memory": 64 << 20,
        "NanoCpus": 500_000_000,
        "CpuShares": 0,
        "CpusetCpus": "",
        "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2},
    }
    assert _changes(body) == {"memory": 64 << 20, "cpus": 0.5, "restart": "on-failure:2"}
    assert _changes({"PidsLimit": -1, "RestartPolicy": {"Name": ""}}) == {"pids_limit": 0}
    for bad in ({"Memory": "lots"}, {"RestartPolicy": "always"}):
        with pytest.raises(HTTPError) as info:
            _changes(bad)
        assert info.value.status == 400


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(exec_id: str, ctr: str = "c1") -> dict:
    return {"ID": exec_id, "ContainerID": ctr, "Running": False, "ExitCode": None}


def test_exec_records_are_freed_when_due(monkeypatch) -> None:
    clock = Clock()
    monkeypatch.setattr(execrecords.time, "monotonic", clock)
    records = ExecRecords()
    for exec_id in ("seen", "unseen", "unstarted", "running"):
        records.add(record(exec_id))
    for exec_id in ("seen", "unseen"):
        ExecRecords.ended(records.find(exec_id))
    records.find("running")["Running"] = True
    ExecRecords.inspected(records.find("seen"))
    ExecRecords.inspected(records.find("unstarted"))  # not ended: not a look at its end

    def left() -> list[str]:
        out = []
        for exec_id in ("seen", "unseen", "unstarted", "running"):
            try:
                records.find(exec_id)
                out.append(exec_id)
            except HTTPError as exc:
                assert exc.status == 404
        return out

    clock.now += execrecords.INSPECTED_GRACE
    records.sweep(300, lambda ctr: True)
    assert left() == ["unseen", "unstarted", "running"]
    clock.now += 300
    records.sweep(300, lambda ctr: True)
    assert left() == ["running"]  # a running exec outlives any bound
    records.find("running")["Running"] = False
    records.add(record("other", "c2"))
    records.sweep(300, lambda ctr: ctr != "c1")  # c1 removed: its records go at once
    assert left() == [] and records.find("other")


class FakeHandler:
    def __init__(self, data: bytes) -> None:
        self.rfile = io.BufferedReader(io.BytesIO(data))


def chunked(*parts: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def test_a_streamed_body_is_read_once_and_drained_from_where_it_stopped() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("f")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"hi\n"))
    data = buf.getvalue()
    wire = chunked(data[:700], data[700:]) + b"NEXT REQUEST"
    handler = FakeHandler(wire)
    request = Request("PUT", "/", {}, {"Transfer-Encoding": "chunked"}, {}, handler)  # type: ignore[arg-type]
    with tarfile.open(fileobj=request.body_file(), mode="r|*") as t:
        assert [m.name for m in t] == ["f"]
    for _ in request.body_chunks():  # the drain after the route reads what is left
        pass
    assert handler.rfile.read() == b"NEXT REQUEST"  # nothing of the next request was eaten
