"""Netlink plumbing of bridges, veth pairs and network namespaces, with pyroute2.

These functions run in the host agent (``runtime.agent``), which imports
pyroute2 once; a CLI call asks the agent instead of paying that import. Each
function is idempotent where a retry after a crash needs it to be: making a
bridge that exists, removing a link or namespace that is gone.

A namespace is a bind mount of an nsfs file under the run directory, made from
a short-lived thread that unshared its own network namespace: no process is
forked, and the namespace outlives the thread through the mount.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pyroute2.iproute.linux import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from runtime.errors import HostError, InvalidArgument

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MNT_DETACH = 2
NETLINK_ROUTE = 0

#: bridges this process has set up: name -> (index, address)
_bridges: dict[str, tuple[int, str]] = {}


def _in_thread(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in a fresh thread (whose namespaces it may change) and return its result."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller
            box["error"] = exc

    t = threading.Thread(target=run, name="wharf-netns")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise HostError(f"{what}: {os.strerror(err)}")


def create_netns(path: str) -> None:
    """Make a new network namespace pinned at ``path`` (an nsfs bind mount), with lo up."""
    p = Path(path)
    if _is_nsfs(p):
        return
    p.parent.mkdir(parents=True, exist_ok=True, mode=0o711)
    p.touch(mode=0o444)

    def make() -> None:
        _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        src = f"/proc/self/task/{threading.get_native_id()}/ns/net".encode()
        _check(_libc.mount(src, str(p).encode(), None, MS_BIND, None), f"bind {p}")

    try:
        _in_thread(make)
        with ns_ipr(path) as ipr:
            ipr.link("set", index=1, state="up")
    except BaseException:
        remove_netns(path)
        raise


def pin_netns(pid: int, path: str) -> None:
    """Pin the network namespace of process ``pid`` at ``path`` (an nsfs bind mount), lo up.

    For a namespace the OCI runtime made inside a container's own user
    namespace: the host's root may still bind it and configure it.
    """
    p = Path(path)
    if _is_nsfs(p):
        return
    p.parent.mkdir(parents=True, exist_ok=True, mode=0o711)
    p.touch(mode=0o444)
    src = f"/proc/{int(pid)}/ns/net".encode()
    try:
        _check(_libc.mount(src, str(p).encode(), None, MS_BIND, None), f"bind {p}")
        with ns_ipr(path) as ipr:
            ipr.link("set", index=1, state="up")
    except BaseException:
        remove_netns(path)
        raise


def remove_netns(path: str) -> None:
    """Unpin a namespace (it goes once its last process exits) and remove its file."""
    p = Path(path)
    if _libc.umount2(str(p).encode(), MNT_DETACH) != 0:
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOENT):
            raise HostError(f"unmount {p}: {os.strerror(err)}")
    with contextlib.suppress(FileNotFoundError):
        p.unlink()


def _is_nsfs(p: Path) -> bool:
    try:
        return p.stat().st_dev != p.parent.stat().st_dev  # a mount: the nsfs bind
    except OSError:
        return False


@contextlib.contextmanager
def ns_ipr(path: str | None) -> Iterator[IPRoute]:
    """An IPRoute talking to the namespace at ``path`` (the host's when None).

    The netlink socket is made by a thread that entered the namespace: a socket
    stays in the namespace it was made in, and no helper process is forked.
    """
    if path is None:
        ipr = IPRoute()
    else:

        def make() -> socket.socket:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                _check(_libc.setns(fd, CLONE_NEWNET), f"setns {path}")
            finally:
                os.close(fd)
            return socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_ROUTE)

        ipr = IPRoute(use_socket=_in_thread(make))
    try:
        yield ipr
    finally:
        ipr.close()


def _sysctl(key: str, value: str) -> None:
    path = Path("/proc/sys") / key.replace(".", "/")
    with contextlib.suppress(FileNotFoundError):
        if path.read_text().strip() == value:
            return
    path.write_text(value)


def ensure_bridge(name: str, address: str, mtu: int = 1500) -> int:
    """Make the bridge ``name`` with ``address`` (CIDR) and bring it up, if not already so.

    Returns its index. A bridge this process set up is only checked for existence
    afterwards (it is on every container start's path).

    Also turns on IPv4 forwarding and ``route_localnet`` on the bridge, which a
    port published on 127.0.0.1 needs (its DNAT'd packets keep a loopback source
    until masqueraded).
    """
    known = _bridges.get(name)
    if known and known[1] == address and _ifindex(name) == known[0]:
        return known[0]
    ip, prefix = address.split("/")
    with ns_ipr(None) as ipr:
        idx = ipr.link_lookup(ifname=name)
        if not idx:
            try:
                ipr.link("add", ifname=name, kind="bridge", mtu=mtu)
            except NetlinkError as exc:
                if exc.code != errno.EEXIST:
                    raise HostError(f"create bridge {name}: {exc.args[-1]}") from exc
            idx = ipr.link_lookup(ifname=name)
        index = idx[0]
        have = {
            (a.get_attr("IFA_ADDRESS"), a["prefixlen"]) for a in ipr.get_addr(index=index, family=2)
        }
        if (ip, int(prefix)) not in have:
            with contextlib.suppress(NetlinkError):
                ipr.addr("add", index=index, address=ip, prefixlen=int(prefix))
        ipr.link("set", index=index, state="up")
    _sysctl("net.ipv4.ip_forward", "1")
    _sysctl(f"net.ipv4.conf.{name}.route_localnet", "1")
    _bridges[name] = (index, address)
    return index


def _ifindex(name: str) -> int | None:
    try:
        return int(Path(f"/sys/class/net/{name}/ifindex").read_text())
    except (OSError, ValueError):
        return None


def remove_link(name: str) -> None:
    """Delete a link of the host by name (a bridge, or a veth with its peer); gone is fine."""
    with ns_ipr(None) as ipr:
        idx = ipr.link_lookup(ifname=name)
        if idx:
            with contextlib.suppress(NetlinkError):
                ipr.link("del", index=idx[0])


def attach(
    netns: str,
    bridge: str,
    bridge_address: str,
    host_if: str,
    ifname: str,
    address: str,
    gateway: str | None,
    mac: str,
    mtu: int = 1500,
) -> None:
    """Plug a namespace into a bridge: a veth pair, ``ifname`` inside with ``address``.

    ``gateway`` becomes the namespace's default route (None for a second network,
    whose traffic leaves through the first). On any failure the pair is removed.
    """
    if not _is_nsfs(Path(netns)):
        raise HostError(f"network namespace {netns} does not exist")
    master = ensure_bridge(bridge, bridge_address, mtu)
    ip, prefix = address.split("/")
    peer = {"ifname": ifname, "net_ns_fd": netns, "address": mac, "mtu": mtu}
    try:
        with ns_ipr(None) as host:
            # master and state in the creating message: one netlink round trip, not three
            new = {"ifname": host_if, "kind": "veth", "mtu": mtu, "master": master, "peer": peer}
            try:
                host.link("add", **new)
            except NetlinkError as exc:
                if exc.code != errno.EEXIST:
                    raise
                host.link("del", ifname=host_if)  # a leftover of a crashed start
                host.link("add", **new)
            host.link("set", ifname=host_if, state="up")
        with ns_ipr(netns) as inside:
            (index,) = inside.link_lookup(ifname=ifname)
            inside.addr("add", index=index, address=ip, prefixlen=int(prefix))
            inside.link("set", index=index, state="up")
            if gateway:
                inside.route("add", dst="0.0.0.0/0", gateway=gateway, oif=index)
    except NetlinkError as exc:
        remove_link(host_if)
        raise HostError(f"attach {ifname} to {bridge}: {exc.args[-1]}") from exc
    except BaseException:
        remove_link(host_if)
        raise


def detach(netns: str, ifname: str, host_if: str) -> None:
    """Unplug one interface of a namespace (removing either end removes the pair)."""
    remove_link(host_if)
    if _is_nsfs(Path(netns)):
        with ns_ipr(netns) as inside:
            idx = inside.link_lookup(ifname=ifname)
            if idx:
                with contextlib.suppress(NetlinkError):
                    inside.link("del", index=idx[0])


def check_name(name: str) -> str:
    """Refuse an interface name the kernel would not take."""
    if not 0 < len(name) <= 15 or "/" in name or name.strip() != name:
        raise InvalidArgument(f"invalid interface name {name!r}")
    return name
