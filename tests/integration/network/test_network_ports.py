"""Published ports: reachable from the host on 127.0.0.1 and on its own addresses."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request

SERVE = ["httpd", "-f", "-p", "80", "-h", "/etc"]


def get(url: str, tries: int = 100) -> str:
    """GET from the host, retrying while the container's server starts."""
    for _ in range(tries):
        try:
            with urllib.request.urlopen(url, timeout=3) as r:  # noqa: S310 - loopback only
                return r.read().decode()
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{url} never answered")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_published_tcp_port_answers_on_loopback_and_the_gateway(wharf, wharf_paths):
    port = free_port()
    cid = wharf("run", "-d", "-p", f"{port}:80", "busybox", *SERVE).stdout.strip()
    assert get(f"http://127.0.0.1:{port}/hostname").strip() == cid[:12]
    # one of the host's own addresses: the default bridge's gateway (made by this test host)
    gateway = json.loads(wharf("network", "inspect", "bridge").stdout)[0]["IPAM"]["Config"][0][
        "Gateway"
    ]
    assert get(f"http://{gateway}:{port}/hostname").strip() == cid[:12]
    assert wharf("port", cid).stdout.strip() == f"80/tcp -> 0.0.0.0:{port}"
    assert wharf("port", cid, "80").stdout.strip() == f"0.0.0.0:{port}"
    ports = json.loads(wharf("inspect", cid).stdout)[0]["NetworkSettings"]["Ports"]
    assert ports == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": str(port)}]}
    wharf("rm", "-f", cid)
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/hostname", timeout=2)  # noqa: S310
        raise AssertionError("the port still answers after rm")
    except OSError:
        pass
    assert f" {port} " not in our_rules(wharf_paths)


def our_rules(paths) -> str:
    """This test host's nftables table (other hosts' tables may change meanwhile)."""
    from runtime.network.manager import host_tag

    table = f"wharf_{host_tag(paths.root)}"
    return subprocess.run(
        ["nft", "list", "table", "ip", table], capture_output=True, text=True
    ).stdout


def test_random_host_ports_and_publish_all(wharf, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM busybox\nEXPOSE 80 8080/tcp\n")
    wharf("build", "-q", "-t", "exposing", str(tmp_path))
    cid = wharf("run", "-d", "-P", "exposing", *SERVE).stdout.strip()
    lines = wharf("port", cid).stdout.splitlines()
    mapped = dict(line.split(" -> ") for line in lines)
    assert set(mapped) == {"80/tcp", "8080/tcp"}
    host_port = int(mapped["80/tcp"].rsplit(":", 1)[1])
    assert host_port >= 1024
    assert get(f"http://127.0.0.1:{host_port}/hostname").strip() == cid[:12]
    one = wharf("run", "-d", "-p", "127.0.0.1::80", "busybox", *SERVE).stdout.strip()
    (binding,) = wharf("port", one, "80/tcp").stdout.split()
    assert binding.startswith("127.0.0.1:")
    assert get(f"http://{binding}/hostname").strip() == one[:12]


def test_a_published_udp_port(wharf, udp_echo_binary, wait_log):
    port = free_port(socket.SOCK_DGRAM)
    cid = wharf("create", "-p", f"127.0.0.1:{port}:5000/udp", "busybox", "/udpecho", "5000")
    cid = cid.stdout.strip()
    wharf("cp", str(udp_echo_binary), f"{cid}:/udpecho")
    wharf("start", cid)
    wait_log(cid)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        for _ in range(20):
            s.sendto(b"ping over udp", ("127.0.0.1", port))
            try:
                assert s.recv(512) == b"ping over udp"
                break
            except TimeoutError:
                continue
        else:
            raise AssertionError("no UDP echo through the published port")
    assert wharf("port", cid).stdout.strip() == f"5000/udp -> 127.0.0.1:{port}"


def test_a_port_in_use_on_the_host_is_refused_and_leaves_nothing(wharf, wharf_paths):
    wharf("run", "--rm", "busybox", "true")  # the table exists from here on
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        before = our_rules(wharf_paths)
        out = wharf("run", "-d", "-p", f"127.0.0.1:{port}:80", "busybox", *SERVE, check=False)
        assert out.returncode == 125
        assert f"127.0.0.1:{port}" in out.stderr and "in use" in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1
        assert our_rules(wharf_paths) == before
    port = free_port()
    wharf("run", "-d", "-p", f"{port}:80", "busybox", *SERVE)
    second = wharf("run", "-d", "-p", f"{port}:80", "busybox", *SERVE, check=False)
    assert second.returncode == 125 and "port is already allocated" in second.stderr
    running = wharf("ps", "-q").stdout.split()
    assert len(running) == 1
