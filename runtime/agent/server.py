"""The agent process: a threaded unix-socket server plus the networks' DNS resolver.

Each operation is a function that checks its arguments (a path outside the
run directory's namespaces, a bad interface name) before touching the host:
the socket is root-only, but the agent still does only what Wharf asks of it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socketserver
import threading
import time
from pathlib import Path
from typing import Any

from runtime import Runtime
from runtime.agent.protocol import encode, error_reply, socket_path
from runtime.agent.supervisor import Supervisor
from runtime.config import Paths
from runtime.errors import InvalidArgument
from runtime.network import links
from runtime.network.manager import host_links, plan_path

log = logging.getLogger("wharf.agent")


class Agent:
    """The operations the agent offers, and the resolver it keeps in step with the networks."""

    def __init__(self, rt: Runtime) -> None:
        from runtime.agent.dns import Resolver, configured_upstreams, host_nameservers

        self.rt = rt
        self.netns_dir = rt.paths.run / "netns"
        self.networks = rt.networks
        self.networks.plumbing = links  # in here, plumbing is a plain call
        configured = configured_upstreams(rt.paths.config.dns_upstreams)

        def upstreams(listen_ip: str, client: str) -> list[tuple[str, int]]:
            # a container's own --dns servers first (Docker's ExtServers), then the host's
            own = self.networks.client_dns(listen_ip, client)
            return [(ip, 53) for ip in own] or configured or host_nameservers()

        self.resolver = Resolver(self._lookup, upstreams)
        self.supervisor: Supervisor | None = None  # started by serve() once the socket listens
        self._lock = threading.Lock()
        self._bridges_seen: set[str] = set()  # links up at the last dns_sync
        self.stopping = threading.Event()

    # --- checks -------------------------------------------------------------------

    def _netns(self, path: str) -> str:
        p = Path(path)
        if p.parent != self.netns_dir or not p.name.isalnum():
            raise InvalidArgument(f"network namespace path {path} is not one of Wharf's")
        return str(p)

    # --- operations ---------------------------------------------------------------

    def op_ping(self) -> dict:
        return {"pid": os.getpid()}

    def op_sandbox(self, path: str, interfaces: list[dict]) -> None:
        """Make a container's namespace and plug in its interfaces: one call per start."""
        path = self._netns(path)
        links.create_netns(path)
        try:
            for interface in interfaces:
                self.op_attach(**{**interface, "netns": path})
        except BaseException:
            links.remove_netns(path)  # its veths go with it
            raise

    def op_plug(self, id: str, pid: int) -> None:  # noqa: A002 - the wire's name
        """Pin the namespace the OCI runtime made for a container in its own user namespace
        and plug in the interfaces its start planned (the createRuntime hook's call: the
        container's process waits meanwhile)."""
        if not id.isalnum():
            raise InvalidArgument(f"invalid container id {id!r}")
        interfaces = json.loads(plan_path(self.rt.paths, id).read_text())
        path = self._netns(str(self.netns_dir / id))
        links.pin_netns(int(pid), path)
        try:
            for interface in interfaces:
                self.op_attach(**{**interface, "netns": path})
        except BaseException:
            links.remove_netns(path)
            raise

    def op_remove_netns(self, path: str) -> None:
        links.remove_netns(self._netns(path))

    def op_ensure_bridge(self, name: str, address: str) -> None:
        links.ensure_bridge(links.check_name(name), address)
        self.op_dns_sync()

    def op_remove_link(self, name: str) -> None:
        links.remove_link(links.check_name(name))
        self.op_dns_sync()

    def op_attach(self, **args: Any) -> None:
        args["netns"] = self._netns(args["netns"])
        for key in ("bridge", "host_if", "ifname"):
            links.check_name(args[key])
        links.attach(**args)
        if args["bridge"] not in self._bridges_seen:
            self.op_dns_sync()  # a bridge made just now (after a reboot): listen on it

    def op_detach(self, netns: str, ifname: str, host_if: str) -> None:
        links.detach(self._netns(netns), links.check_name(ifname), links.check_name(host_if))

    def op_dns_sync(self) -> list[str]:
        """Listen on the gateway of every user-defined network whose bridge is up."""
        with self._lock:
            wanted = self.networks.dns_addresses()
            up = set(host_links())
            addresses = [gw for gw, bridge in wanted if bridge in up]
            self.resolver.set_addresses(addresses)
            self._bridges_seen = up
        return addresses

    def op_supervise(self, id: str | None = None) -> None:  # noqa: A002 - the wire's name
        """Watch a container just started (its exit, restart policy, health check); without
        an id only make sure the agent runs (an events follower asks so)."""
        if id is not None and self.supervisor is not None:
            self.supervisor.post("check", str(id))

    def op_shutdown(self) -> None:
        self.stopping.set()

    def _lookup(self, listen_ip: str, client: str, name: str) -> list[str] | None:
        return self.networks.resolve(listen_ip, name, client)

    def handle(self, request: dict) -> dict:
        op = getattr(self, f"op_{request.get('op')}", None)
        if op is None:
            return error_reply(InvalidArgument(f"unknown agent operation {request.get('op')!r}"))
        try:
            return {"ok": True, "result": op(**(request.get("args") or {}))}
        except Exception as exc:  # every failure goes back to the caller
            log.warning("%s failed: %s", request.get("op"), exc)
            return error_reply(exc)


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    agent: Agent


class _Handler(socketserver.StreamRequestHandler):
    """One client connection: requests one per line, answered in order, until it closes."""

    def handle(self) -> None:
        for line in self.rfile:
            try:
                request = json.loads(line)
            except ValueError:
                reply = error_reply(InvalidArgument("malformed request"))
            else:
                reply = self.server.agent.handle(request)  # type: ignore[attr-defined]
            self.wfile.write(encode(reply))
            self.wfile.flush()
            if self.server.agent.stopping.is_set():  # type: ignore[attr-defined]
                threading.Thread(target=self.server.shutdown, daemon=True).start()
                return


def serve(rt: Runtime) -> None:
    """Run the agent of ``rt``'s root until asked to stop or sent SIGTERM."""
    paths = rt.paths
    paths.ensure()
    sock = socket_path(paths)
    agent = Agent(rt)
    with contextlib.suppress(FileNotFoundError):
        sock.unlink()  # the caller holds the start lock: a file here is a dead agent's
    old_umask = os.umask(0o177)
    try:
        server = _Server(str(sock), _Handler)
    finally:
        os.umask(old_umask)
    server.agent = agent
    (paths.run / "agent.pid").write_text(str(os.getpid()))
    signal.signal(
        signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start()
    )
    threading.Thread(target=agent.resolver.serve_forever, daemon=True, name="dns").start()
    agent.supervisor = Supervisor(paths.root, paths.run)
    supervisor = threading.Thread(target=agent.supervisor.run, daemon=True, name="supervisor")
    supervisor.start()
    threading.Thread(
        target=_exit_with_root, args=(paths, server), daemon=True, name="watch"
    ).start()
    with contextlib.suppress(Exception):
        agent.op_dns_sync()
    engine_api = _serve_engine_api(paths)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        if engine_api is not None:
            from runtime.engineapi.server import close

            close(engine_api, paths)
        with contextlib.suppress(FileNotFoundError):
            sock.unlink()
        with contextlib.suppress(FileNotFoundError):
            (paths.run / "agent.pid").unlink()
        agent.supervisor.stop()
        supervisor.join(timeout=10)
        agent.resolver.close()
        server.server_close()


def _serve_engine_api(paths: Paths) -> Any:
    """Serve the Docker Engine API beside the agent's own socket (runtime.engineapi); a
    failure to bind it is logged and leaves the agent's duties running."""
    from runtime.engineapi.server import listen

    try:
        engine_api = listen(paths)
    except Exception as exc:
        log.warning("the Engine API socket could not be served: %s", exc)
        return None
    threading.Thread(
        target=engine_api.serve_forever,
        kwargs={"poll_interval": 0.5},
        daemon=True,
        name="engineapi",
    ).start()
    return engine_api


def _exit_with_root(paths: Paths, server: _Server) -> None:
    """Shut down once the root is gone: nobody is left to ask this agent to stop, and
    nobody but this agent knows what the root left on the host."""
    while paths.root.is_dir():
        time.sleep(2)
    log.warning("root %s is gone; releasing what it left on the host, then exiting", paths.root)
    for line in release_orphaned_host_objects(paths):
        log.warning("%s", line)
    server.shutdown()


def release_orphaned_host_objects(paths: Paths) -> list[str]:
    """Remove a removed root's bridges, veths, namespaces, nftables table and FORWARD rules.

    The database that named them went with the root, so they are found by the
    root's tag (``runtime.network.manager.host_tag``), which only this root's
    objects carry. Return one line per object removed.
    """
    from runtime.errors import WharfError
    from runtime.network.firewall import Firewall
    from runtime.network.manager import host_tag

    tag = host_tag(paths.root)
    done: list[str] = []
    netns_dir = paths.run / "netns"
    if netns_dir.is_dir():
        for f in sorted(netns_dir.iterdir()):
            try:
                links.remove_netns(str(f))
                done.append(f"removed network namespace {f}")
            except WharfError as exc:
                done.append(f"could not remove network namespace {f}: {exc}")
    for link in sorted(host_links()):
        if link.startswith((f"wh{tag}-", f"wv{tag}")):
            try:
                links.remove_link(link)
                done.append(f"removed link {link}")
            except WharfError as exc:
                done.append(f"could not remove link {link}: {exc}")
    firewall = Firewall(tag)
    try:
        had_table = firewall.exists()
        firewall.remove_table()  # the table and the marked rules of iptables' FORWARD chain
        if had_table:
            done.append(f"removed nftables table ip {firewall.table} and its FORWARD rules")
    except WharfError as exc:
        done.append(f"could not remove nftables table ip {firewall.table}: {exc}")
    finally:
        firewall.close()
    return done
