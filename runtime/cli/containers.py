"""Container verbs of the ``wharf`` CLI, shaped like docker's.

``run``, ``create``, ``start``, ``stop``, ``restart``, ``kill``, ``pause``,
``unpause``, ``rm``, ``wait``, ``logs``, ``exec``, ``attach``, ``ps``,
``inspect``, ``top``, ``stats``, ``rename``, ``commit``, ``export``, ``cp`` and
the ``container …`` forms. Handlers call ``runtime.containers``; parsing the
raw flags into a ``ContainerSpec`` is the only logic here.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from runtime.cli.errors import client_error, command_error
from runtime.cli.main import key_values, management_group
from runtime.timefmt import parse_duration


def _runtime() -> Any:
    from runtime import Runtime

    return Runtime()


def _fail(message: str, code: int = 1) -> int:
    client_error(message)
    return code


def _each(
    args: argparse.Namespace,
    names: list[str],
    action: Any,
    echo: bool = True,
    missing_said_by_client: bool = False,
) -> int:
    """Apply an action to several containers; report each failure, Docker's exit code 1.

    Each name done is printed, unless the action returns False (nothing was done).
    ``missing_said_by_client``: a missing container is ``Error: No such container: x``
    (Docker's rm), not its daemon's answer.
    """
    from runtime.errors import WharfError

    failed = 0
    with _runtime() as rt:
        for name in names:
            try:
                done = action(rt, name)
                if echo and done is not False:
                    print(name)
            except WharfError as exc:
                command_error(exc, missing_said_by_client)
                failed = 1
    return failed


# --- run / create ---------------------------------------------------------------------


def _lines_of(paths: list[str] | None, flag: str) -> list[str]:
    """The entries of ``--env-file``/``--label-file`` files: lines, blank ones and
    ``#`` comments left out, as Docker reads them."""
    from runtime.errors import InvalidArgument

    out: list[str] = []
    for path in paths or []:
        try:
            lines = open(path).read().splitlines()  # noqa: SIM115
        except OSError as exc:
            raise InvalidArgument(f"open {path}: {exc.strerror}") from None
        out += [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    return out


def _env_list(args: argparse.Namespace) -> list[str]:
    env: list[str] = []
    for line in _lines_of(args.env_file, "--env-file"):
        env.append(line if "=" in line else f"{line}={os.environ.get(line, '')}")
    for item in args.env or []:
        if "=" in item:
            env.append(item)
        elif item in os.environ:
            env.append(f"{item}={os.environ[item]}")
    return env


def _attach_streams(args: argparse.Namespace) -> list[str] | None:
    """Docker's ``-a``: the streams named (None: Docker's default, stdout and stderr)."""
    from runtime.errors import InvalidArgument

    detached = getattr(args, "detach", False)
    if not args.attach:
        return [] if detached else None
    if detached:
        raise InvalidArgument("Conflicting options: -a and -d")
    streams = [s.lower() for s in args.attach]
    for stream in streams:
        if stream not in ("stdin", "stdout", "stderr"):
            raise InvalidArgument(
                f'invalid argument "{stream}" for "-a, --attach" flag: '
                "valid streams are STDIN, STDOUT and STDERR"
            )
    return streams


def _health(args: argparse.Namespace) -> dict | None:
    """The --health-* flags as a Healthcheck; without --health-cmd the other flags still
    tune the image's check (the merge is ``runtime.containers.config.merge_health``)."""
    if args.no_healthcheck or (args.health_cmd or "").strip().lower() == "none":
        return {"Test": ["NONE"]}

    def dur(text: str | None) -> int:
        return parse_duration(text) if text else 0

    check = {
        "Test": ["CMD-SHELL", args.health_cmd] if args.health_cmd else [],
        "Interval": dur(args.health_interval),
        "Timeout": dur(args.health_timeout),
        "StartPeriod": dur(args.health_start_period),
        "Retries": args.health_retries or 0,
    }
    return check if any(check.values()) else None


def spec_from_args(args: argparse.Namespace) -> Any:
    """Turn run/create flags into a ContainerSpec (validation of values happens there).

    A flag value that does not parse (``-m 1x``) is refused as Docker's client refuses
    it, by the client (``wharf: ….`` and the hint, no daemon's prefix: see
    runtime.cli.errors), though the parser lives with the spec."""
    from runtime.errors import InvalidArgument

    try:
        return _spec_from_flags(args)
    except InvalidArgument as exc:
        raise InvalidArgument(exc.message) from None


def _spec_from_flags(args: argparse.Namespace) -> Any:
    _check_cidfile(args.cidfile or "")
    _check_platform(args.platform)
    from runtime.containers.model import ContainerSpec, parse_cpus, parse_size
    from runtime.errors import InvalidArgument

    entrypoint = None
    if args.entrypoint is not None:
        entrypoint = [args.entrypoint] if args.entrypoint else []
    try:
        pids = int(args.pids_limit) if args.pids_limit else 0
        shares = int(args.cpu_shares) if args.cpu_shares else 0
    except ValueError:
        raise InvalidArgument(
            "invalid --pids-limit/--cpu-shares value: expected an integer"
        ) from None
    sysctls = {}
    for item in args.sysctl or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidArgument(f"invalid --sysctl {item!r}: expected KEY=VALUE")
        sysctls[key] = value
    return ContainerSpec(
        image=args.image,
        cmd=list(args.command) or None,
        entrypoint=entrypoint,
        env=_env_list(args),
        workdir=args.workdir or "",
        user=args.user or "",
        hostname=args.hostname or "",
        domainname=args.domainname or "",
        name=args.name or "",
        labels=key_values(
            _lines_of(args.label_file, "--label-file") + (args.label or []), "--label"
        ),
        tty=args.tty,
        stdin_open=args.interactive,
        attach=_attach_streams(args),
        privileged=args.privileged,
        read_only=args.read_only,
        auto_remove=args.rm,
        init=args.init,
        cap_add=args.cap_add or [],
        cap_drop=args.cap_drop or [],
        security_opt=args.security_opt or [],
        sysctls=sysctls,
        ulimits=args.ulimit or [],
        network="" if args.network in (None, "default") else args.network,
        network_aliases=args.network_alias or [],
        ip=args.ip,
        ports=args.publish or [],
        publish_all=args.publish_all,
        expose=args.expose or [],
        dns=args.dns or [],
        dns_search=args.dns_search or [],
        dns_options=args.dns_option or [],
        add_hosts=args.add_host or [],
        links=args.link or [],
        volumes=args.volume or [],
        mounts=args.mount or [],
        tmpfs=args.tmpfs or [],
        volumes_from=args.volumes_from or [],
        restart=args.restart or "no",
        stop_signal=args.stop_signal or "",
        stop_timeout=args.stop_timeout,
        healthcheck=_health(args),
        memory=parse_size(args.memory, "--memory") if args.memory else 0,
        memory_swap=parse_size(args.memory_swap, "--memory-swap") if args.memory_swap else 0,
        memory_reservation=(
            parse_size(args.memory_reservation, "--memory-reservation")
            if args.memory_reservation
            else 0
        ),
        cpus=parse_cpus(args.cpus) if args.cpus else 0.0,
        cpu_shares=shares,
        cpuset_cpus=args.cpuset_cpus or "",
        cpuset_mems=args.cpuset_mems or "",
        oom_kill_disable=args.oom_kill_disable,
        # Docker's -1 is "the host's": no value of our own
        memory_swappiness=None if args.memory_swappiness in (None, -1) else args.memory_swappiness,
        cidfile=args.cidfile or "",
        pid_mode=args.pid or "",
        ipc_mode=args.ipc or "",
        uts_mode=args.uts or "",
        devices=args.device or [],
        cgroupns=args.cgroupns or "",
        cgroup_parent=args.cgroup_parent or "",
        mac_address=args.mac_address or "",
        pids_limit=pids,
        oom_score_adj=args.oom_score_adj,
        runtime=args.runtime or "",
        userns=args.userns or "",
        log_driver=args.log_driver or "",
        log_opts=dict(o.partition("=")[::2] for o in args.log_opt or []),
        cpu_period=args.cpu_period or 0,
        cpu_quota=args.cpu_quota or 0,
        blkio_weight=args.blkio_weight or 0,
        device_read_bps=args.device_read_bps or [],
        device_write_bps=args.device_write_bps or [],
        shm_size=parse_size(args.shm_size, "--shm-size") if args.shm_size else 0,
        group_add=args.group_add or [],
    )


def _pull_policy(args: argparse.Namespace) -> str:
    from runtime.errors import InvalidArgument

    policy = args.pull or "missing"
    if policy not in ("missing", "always", "never"):
        raise InvalidArgument(
            f'invalid pull option: \'{policy}\': must be one of "always", "missing" or "never"'
        )
    return policy


def _image_for(rt: Any, args: argparse.Namespace, policy: str) -> None:
    """Pull the image first when it is not here (``--pull missing``) or always, as Docker's run.

    What a pull says goes to stderr: stdout is the container's (or the new id).
    """
    from runtime.errors import ImageNotFound, InvalidArgument
    from runtime.images.progress import for_stream

    if policy == "never":
        return
    if policy == "missing":
        try:
            rt.images.get(args.image)
            return
        except ImageNotFound:
            pass
        from runtime.images.reference import parse_reference

        try:
            wanted = parse_reference(args.image).tagged
        except InvalidArgument:  # not a reference: create says so
            return
        if "@" in args.image:
            wanted = args.image
        if not args.quiet:
            print(f"Unable to find image '{wanted}' locally", file=sys.stderr)
    rt.images.pull(
        args.image,
        platform=args.platform,
        progress=for_stream(sys.stderr, args.quiet),
    )


def cmd_create(args: argparse.Namespace) -> int:
    from runtime.errors import Conflict, NotFound, RegistryError

    spec = spec_from_args(args)
    policy = _pull_policy(args)
    with _runtime() as rt:
        try:
            _image_for(rt, args, policy)
            c = rt.containers.create(spec)
        except (NotFound, Conflict, RegistryError):
            # what Docker's daemon refuses (a name in use, no such image or network, a
            # failed pull) its create prints as it is and fails with 1; a bad value stays
            # ``wharf: ….`` with the hint and 125, as its client's
            args.error_stage = None
            raise
        _write_cidfile(spec.cidfile, c.id)
        print(c.id)
    return 0


def _check_platform(text: str | None) -> None:
    """Accept ``--platform`` naming this host's platform; refuse any other clearly (Wharf
    runs no emulator, so another architecture's image could not run here)."""
    if not text:
        return
    from runtime.errors import InvalidArgument
    from runtime.images.manifest import parse_platform
    from runtime.images.store import host_platform

    os_name, arch, variant = parse_platform(text)
    host_os, host_arch, host_variant = host_platform()
    if (os_name, arch) != (host_os, host_arch) or (variant and variant != host_variant):
        host = "/".join(p for p in (host_os, host_arch, host_variant) if p)
        raise InvalidArgument(
            f"platform {text} is not this host's ({host}): "
            "only images of the host's platform run here"
        )


def _check_cidfile(path: str) -> None:
    """Refuse a --cidfile that exists before anything is made, as Docker's client."""
    from runtime.errors import InvalidArgument

    if path and os.path.exists(path):
        raise InvalidArgument(
            f"Container ID file found, make sure the other container isn't running or delete {path}"
        )


def _write_cidfile(path: str, ctr_id: str) -> None:
    from runtime.errors import InvalidArgument

    if not path:
        return
    try:
        with open(path, "x") as out:
            out.write(ctr_id)
    except OSError as exc:
        raise InvalidArgument(f"failed to create the container ID file: {exc}") from None


def cmd_run(args: argparse.Namespace) -> int:
    import socket

    from runtime.errors import WharfError

    spec = spec_from_args(args)
    _check_detach_keys(args)
    if not args.detach:
        args.error_stage = None  # Docker's client says this one plainly
        _check_input_tty(spec.stdin_open, spec.tty)
        args.error_stage = "create"
    policy = _pull_policy(args)
    with _runtime() as rt:
        _image_for(rt, args, policy)
        c = rt.containers.create(spec)
        _write_cidfile(spec.cidfile, c.id)
        # a failed start is ``wharf: ….`` without the hint, as Docker's run says it
        args.error_stage = "start"
        if args.detach:
            try:
                rt.containers.start(c.id)
            except WharfError:
                if spec.auto_remove:
                    rt.containers.remove(c.id, force=True)
                raise
            print(c.id)
            return 0
        ours, theirs = socket.socketpair()
        try:
            rt.containers.start(c.id, attach_fd=theirs.fileno())
        except WharfError:
            if spec.auto_remove:
                rt.containers.remove(c.id, force=True)
            raise
        finally:
            theirs.close()
        args.error_stage = None
        code = _attached(
            rt,
            c.id,
            ours,
            spec.stdin_open,
            spec.tty,
            proxy_signals=args.sig_proxy and not spec.tty,
            detach_keys=args.detach_keys,
            streams=spec.attach,
        )
        if code is None:
            return 0  # detached: the container runs on (and --rm is its shim's job now)
        if spec.auto_remove:
            rt.containers.remove(c.id, force=True)
        return code


def _check_input_tty(stdin_open: bool, tty: bool) -> None:
    """Refuse ``-it`` when our input is no terminal (a pipe, a file), as Docker does (1)."""
    if stdin_open and tty and not sys.stdin.isatty():
        from runtime.errors import InvalidArgument

        exc = InvalidArgument("the input device is not a TTY")
        exc.exit_code = 1
        raise exc


def _check_detach_keys(args: argparse.Namespace) -> None:
    """Refuse bad --detach-keys before anything starts."""
    if args.detach_keys:
        from runtime.containers.attach import parse_detach_keys

        parse_detach_keys(args.detach_keys)


def _attached(
    rt: Any,
    ctr_id: str,
    sock: Any,
    stdin_open: bool,
    tty: bool,
    proxy_signals: bool,
    detach_keys: str,
    streams: list[str] | None = None,
) -> int | None:
    """Relay a container's stdio over its shim socket until it exits; return the exit code.

    None when the person typed the detach keys and the container runs on. ``streams``:
    the output streams shown (the container's ``-a``), None both.
    """
    from runtime.containers.attach import Detached, relay

    try:
        code = relay(
            sock,
            stdin_open=stdin_open,
            tty=tty,
            on_signal=(lambda sig: rt.containers.kill(ctr_id, sig)) if proxy_signals else None,
            on_resize=lambda rows, cols: rt.containers.resize(ctr_id, rows, cols),
            detach_keys=detach_keys,
            streams=streams,
        )
    except Detached:
        return None
    if code is None:
        code = rt.containers.wait(ctr_id)
    return code


def cmd_start(args: argparse.Namespace) -> int:
    if args.attach or args.interactive:
        if len(args.containers) != 1:
            return _fail("you cannot start and attach multiple containers at once")
        import socket

        _check_detach_keys(args)
        with _runtime() as rt:
            c = rt.containers.get(args.containers[0])
            ours, theirs = socket.socketpair()
            try:
                rt.containers.start(c.id, attach_fd=theirs.fileno())
            finally:
                theirs.close()
            code = _attached(
                rt,
                c.id,
                ours,
                args.interactive and c.spec.stdin_open,
                c.spec.tty,
                proxy_signals=not c.spec.tty,
                detach_keys=args.detach_keys,
                streams=c.spec.attach or None,
            )
            return 0 if code is None else code
    return _each(args, args.containers, lambda rt, n: rt.containers.start(n))


def cmd_attach(args: argparse.Namespace) -> int:
    _check_detach_keys(args)
    with _runtime() as rt:
        c = rt.containers.get(args.container)
        sock = rt.containers.attach_socket(c.id)
        code = _attached(
            rt,
            c.id,
            sock,
            not args.no_stdin and c.spec.stdin_open,
            c.spec.tty,
            proxy_signals=args.sig_proxy and not c.spec.tty,
            detach_keys=args.detach_keys,
        )
    if code is None:
        # Docker's attach ends with this message and 1 (its run and start end with 0)
        print("read escape sequence", file=sys.stderr)
        return 1
    return code


def cmd_stop(args: argparse.Namespace) -> int:
    return _each(args, args.containers, lambda rt, n: rt.containers.stop(n, args.time))


def cmd_restart(args: argparse.Namespace) -> int:
    return _each(args, args.containers, lambda rt, n: rt.containers.restart(n, args.time))


def cmd_kill(args: argparse.Namespace) -> int:
    return _each(args, args.containers, lambda rt, n: rt.containers.kill(n, args.signal))


def cmd_pause(args: argparse.Namespace) -> int:
    return _each(args, args.containers, lambda rt, n: rt.containers.pause(n))


def cmd_unpause(args: argparse.Namespace) -> int:
    return _each(args, args.containers, lambda rt, n: rt.containers.unpause(n))


def cmd_rm(args: argparse.Namespace) -> int:
    from runtime.errors import ContainerNotFound

    def remove(rt: Any, name: str) -> bool:
        try:
            rt.containers.remove(name, force=args.force, volumes=args.volumes)
        except ContainerNotFound as exc:
            if not args.force:
                raise
            # Docker's rm -f: a container already gone is said, and is no failure
            command_error(exc, missing_said_by_client=True)
            return False
        return True

    return _each(args, args.containers, remove, missing_said_by_client=True)


def cmd_wait(args: argparse.Namespace) -> int:
    return _each(args, args.containers, lambda rt, n: print(rt.containers.wait(n)), echo=False)


def cmd_rename(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        rt.containers.rename(args.container, args.new_name)
    return 0


# --- output ---------------------------------------------------------------------------


def cmd_logs(args: argparse.Namespace) -> int:
    since = _time_arg(args.since, "since") if args.since else None
    until = _time_arg(args.until, "until") if args.until else None
    tail = _tail_arg(args.tail)
    with _runtime() as rt:
        for rec in rt.containers.logs(
            args.container, follow=args.follow, tail=tail, since=since, until=until
        ):
            stream = sys.stdout if rec["stream"] == "stdout" else sys.stderr
            text = rec["log"]
            if args.details:
                # the log's extra attributes come first (Wharf records none), then a space
                text = f" {text}"
            if args.timestamps:
                text = f"{rec['time']} {text}"
            stream.write(text)
            stream.flush()
    return 0


def _tail_arg(text: str | None) -> int | None:
    """``--tail N`` or ``all``; anything else is refused, not read as everything."""
    from runtime.errors import InvalidArgument

    if text in (None, "all"):
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidArgument(
            f'invalid value for "tail": {text!r}: expected a number of lines or "all"'
        ) from None


def _time_arg(text: str, name: str) -> str:
    """Turn ``--since``/``--until`` (``10m``, ``1.5s``, a Unix time, RFC 3339) into a record time."""
    from runtime.errors import InvalidArgument
    from runtime.timefmt import ns_to_rfc3339, parse_point_in_time

    try:
        return ns_to_rfc3339(parse_point_in_time(text))
    except InvalidArgument:
        raise InvalidArgument(
            f'invalid value for "{name}": failed to parse value as time or duration: "{text}"'
        ) from None


def cmd_exec(args: argparse.Namespace) -> int:
    from runtime.errors import CommandNotExecutable, CommandNotFound

    try:
        return _exec(args)
    except CommandNotFound as exc:
        # what run reports with 127, Docker's exec reports with 126
        raise CommandNotExecutable(exc.message) from None


def _exec(args: argparse.Namespace) -> int:
    env = list(args.env or [])
    _check_detach_keys(args)
    if not args.detach:
        _check_input_tty(args.interactive, args.tty)
    with _runtime() as rt:
        if args.tty and not args.detach and sys.stdin.isatty():
            from runtime.containers.attach import Detached, relay_pty

            handle = rt.containers.exec_tty(
                args.container,
                list(args.command),
                user=args.user or "",
                workdir=args.workdir or "",
                env=env,
                privileged=args.privileged,
            )
            try:
                return relay_pty(
                    handle.master, handle, stdin_open=args.interactive, detach_keys=args.detach_keys
                )
            except Detached:
                # the process runs on; Docker's exec ends as its attach does
                print("read escape sequence", file=sys.stderr)
                return 1
        return rt.containers.exec(
            args.container,
            list(args.command),
            user=args.user or "",
            workdir=args.workdir or "",
            env=env,
            detach=args.detach,
            privileged=args.privileged,
            stdin=None if args.interactive else open(os.devnull, "rb"),  # noqa: SIM115
        )


def _status_text(c: Any, health: dict | None = None) -> str:
    from runtime.cli.images import _since

    if c.status == "created":
        return "Created"
    if c.status == "dead":
        return "Dead"
    if c.status == "restarting":
        return f"Restarting ({c.exit_code}) {_since(c.finished_at)}"
    if c.running:
        up = _since(c.started_at).replace(" ago", "").replace("About a", "About a")
        suffix = " (Paused)" if c.status == "paused" else ""
        if health and not suffix:
            suffix = (
                " (health: starting)"
                if health["Status"] == "starting"
                else f" ({health['Status']})"
            )
        return f"Up {up}{suffix}"
    return f"Exited ({c.exit_code}) {_since(c.finished_at)}"


def format_ports(ports: dict | None) -> str:
    """Render NetworkSettings.Ports as ``docker ps`` does (its ``DisplayablePorts``).

    Ports published on the same number and exposed ports are grouped into ranges
    (``0.0.0.0:8000-8002->8000-8002/tcp``, ``443/tcp``) and come first; mappings to
    another host port follow (``0.0.0.0:8080->80/tcp``).
    """
    entries = []  # Docker's types.Port: (private, ip, public, proto)
    for key, bindings in (ports or {}).items():
        number, _, proto = key.partition("/")
        if not bindings:
            entries.append((int(number), "", 0, proto or "tcp"))
        for b in bindings or []:
            public = int(b.get("HostPort") or 0)
            entries.append((int(number), b.get("HostIp") or "0.0.0.0", public, proto or "tcp"))  # noqa: S104
    groups: dict[str, list[int]] = {}
    result, mappings = [], []

    def group_text(key: str, first: int, last: int) -> str:
        ip, _, proto = key.rpartition("/")
        text = str(first) if first == last else f"{first}-{last}"
        return f"{ip}:{text}->{text}/{proto}" if ip else f"{text}/{proto}"

    for private, ip, public, proto in sorted(entries):
        key = proto
        if ip:
            if public != private:
                mappings.append(f"{ip}:{public}->{private}/{proto}")
                continue
            key = f"{ip}/{proto}"
        group = groups.get(key)
        if group is None:
            groups[key] = [private, private]
        elif private == group[1] + 1:
            group[1] = private
        else:
            result.append(group_text(key, *group))
            groups[key] = [private, private]
    result += [group_text(key, *g) for key, g in groups.items()]
    return ", ".join(result + mappings)


def _size_text(rw: int, rootfs: int) -> str:
    """``ps -s``'s SIZE: the writable layer, and with the image under it (Docker's words)."""
    from runtime.cli.images import _size

    return f"{_size(rw)} (virtual {_size(rootfs)})" if rootfs > 0 else _size(rw)


def select_containers(
    rt: Any, flt: dict[str, list[str]], *, all_: bool, limit: int = 0
) -> tuple[list[Any], Any]:
    """The containers ``ps`` lists (filters parsed by ``filters.parse``), and a function
    giving a container's inspect document, cached (the Engine API's list shares both)."""
    from runtime.cli import filters
    from runtime.errors import ImageNotFound

    every = rt.containers.list(all=True)
    docs: dict[str, dict] = {}

    def inspected(c: Any) -> dict:
        if c.id not in docs:
            docs[c.id] = rt.containers.inspect(c)
        return docs[c.id]

    def image_id(ref: str) -> str | None:
        try:
            return rt.images.inspect(ref)["Id"]
        except ImageNotFound:
            return None

    parents = {img.id: img.parent for img in rt.images.list(all=True)} if "ancestor" in flt else {}
    match = filters.ContainerFilter(flt, every, inspected, image_id, parents)
    # as Docker: stopped containers only with -a, a status filter, or -n/-l
    every_state = all_ or match.all_states or limit > 0
    items = [c for c in every if (every_state or c.running) and match(c)]
    if limit > 0:
        items = items[:limit]
    return items, inspected


def cmd_ps(args: argparse.Namespace) -> int:
    from runtime.cli import filters, formatter, listings
    from runtime.cli.govalues import Record
    from runtime.cli.images import _since

    flt = filters.parse(args.filter, filters.PS_KEYS)
    limit = 1 if args.latest else (args.last or 0)
    default = listings.CONTAINER_TABLE + ("\\t{{.Size}}" if args.size else "")
    fmt = formatter.quiet_or(args.format, args.quiet, default)
    # as Docker: a template that shows .Size asks for the sizes
    want_size = args.size or ".Size" in fmt
    with _runtime() as rt:
        items, inspected = select_containers(rt, flt, all_=args.all, limit=limit)
        if args.quiet:
            rows = [Record({"ID": c.id if args.no_trunc else c.short_id}) for c in items]
        else:
            rows = [
                listings.container_row(
                    c,
                    trunc=not args.no_trunc,
                    status=_status_text(c, rt.containers.health(c.id) if c.running else None),
                    running_for=_since(c.created),
                    ports=format_ports(rt.containers.ports(c.id) if c.running else None),
                    inspected=inspected(c),
                    size=_size_text(*rt.containers.size(c.id)) if want_size else "0B",
                )
                for c in items
            ]
    formatter.write_rows(fmt, rows, listings.CONTAINER_HEADERS)
    return 0


_INSPECT_KINDS = ("container", "image", "network", "volume")


def cmd_inspect(args: argparse.Namespace) -> int:
    """Docker's ``inspect``: each name is looked up as a container, image, network, volume."""
    from runtime.cli.formatter import print_inspected
    from runtime.errors import InvalidArgument, NotFound

    kind = "container" if getattr(args, "container_command", None) else args.type
    if kind and kind not in _INSPECT_KINDS:
        raise InvalidArgument(f'"{kind}" is not a valid value for --type')
    out, missing = [], []
    with _runtime() as rt:
        finders = {
            "container": lambda name: rt.containers.inspect(name, size=args.size),
            "image": rt.images.inspect,
            "network": rt.networks.inspect,
            "volume": lambda name: rt.volumes.get(name).inspect(),
        }
        for name in args.names:
            for candidate in [kind] if kind else _INSPECT_KINDS:
                try:
                    out.append(finders[candidate](name))
                    break
                except NotFound:
                    continue
            else:
                missing.append(f"No such {kind or 'object'}: {name}")
    return print_inspected(out, missing, args.format)


def cmd_top(args: argparse.Namespace) -> int:
    from runtime.cli.images import _table

    with _runtime() as rt:
        titles, rows = rt.containers.top(args.container, " ".join(args.ps_args) or "-ef")
    _table([r + [""] * (len(titles) - len(r)) for r in rows], titles, minwidth=20)
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """Docker's ``stats``: CPU % over the last interval (so even ``--no-stream`` samples
    twice, a second apart, as Docker's daemon does), memory in binary units, network
    and disk in decimal; a stream redraws the screen each second."""
    import time

    from runtime.cli import formatter, listings
    from runtime.cli.images import _size
    from runtime.containers.usage import UsageSampler
    from runtime.images.progress import binary_size

    with _runtime() as rt:
        # as Docker: containers named on the command line are shown as named, the
        # running ones (no names given) by their short id
        given = args.containers or [c.short_id for c in rt.containers.list()]
        sampler = UsageSampler()

        def sample() -> list[tuple[str, Any, dict, float]]:
            out = []
            for name in given:
                c = rt.containers.get(name)
                if c.running:
                    out.append((name, c, rt.containers.stats(c.id), time.monotonic()))
            return out

        for _name, c, s, now in sample():
            sampler.prime(c.id, s, now)
        time.sleep(1)
        while True:
            records = []
            for name, c, s, now in sample():
                u = sampler.sample(c.id, s, now)
                records.append(
                    {
                        "ID": c.id if args.no_trunc else c.short_id,
                        "Container": name,
                        "Name": c.name,
                        "CPUPerc": f"{u.cpu_percent:.2f}%",
                        "MemUsage": (
                            f"{binary_size(u.memory_usage)} / {binary_size(u.memory_limit)}"
                        ),
                        "MemPerc": f"{u.memory_percent:.2f}%",
                        "NetIO": f"{_size(u.net_rx)} / {_size(u.net_tx)}",
                        "BlockIO": f"{_size(u.blkio_read)} / {_size(u.blkio_write)}",
                        "PIDs": str(u.pids),
                    }
                )
            if not args.no_stream:
                sys.stdout.write("\033[2J\033[H")  # Docker clears the screen before each table
            formatter.write_rows(
                args.format or listings.STATS_TABLE,
                [listings.plain_row(r, "*container.statsContext") for r in records],
                listings.STATS_HEADERS,
            )
            sys.stdout.flush()
            if args.no_stream:
                return 0
            time.sleep(1)


def cmd_commit(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        image = rt.containers.commit(
            args.container,
            args.repository or "",
            message=args.message or "",
            author=args.author or "",
            changes=args.change or [],
            pause=args.pause,
        )
    print(image.id)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        for kind, path in rt.containers.changes(args.container):
            print(f"{kind} {path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        if args.output:
            with open(args.output, "wb") as out:
                rt.containers.export(args.container, out)
        else:
            sys.stdout.flush()
            rt.containers.export(args.container, sys.stdout.buffer)
    return 0


def cmd_cp(args: argparse.Namespace) -> int:
    from runtime.errors import ContainerNotFound, NotFound

    src_ctr, _, src_path = args.src.partition(":") if ":" in args.src else ("", "", args.src)
    dst_ctr, _, dst_path = args.dest.partition(":") if ":" in args.dest else ("", "", args.dest)
    how = {"follow_link": args.follow_link, "archive": args.archive}
    try:
        _copy(args, src_ctr, src_path, dst_ctr, dst_path, how)
    except NotFound as exc:
        # Docker's client words a 404 of its copy calls itself, naming what it asked for
        if src_ctr:
            raise NotFound(f"No such container:path: {src_ctr}:{src_path}") from None
        if isinstance(exc, ContainerNotFound):
            raise NotFound(f"No such container:path: {dst_ctr}:{dst_path}") from None
        raise
    return 0


def _copy(
    args: argparse.Namespace, src_ctr: str, src_path: str, dst_ctr: str, dst_path: str, how: dict
) -> None:
    from runtime.containers.copy import copy_from, copy_to, tar_from, untar_to
    from runtime.errors import InvalidArgument

    with _runtime() as rt:
        if src_ctr and args.dest == "-":
            sys.stdout.flush()
            tar_from(rt.containers, src_ctr, src_path, sys.stdout.buffer, args.follow_link)
        elif dst_ctr and args.src == "-":
            untar_to(rt.containers, sys.stdin.buffer, dst_ctr, dst_path)
        elif src_ctr and not dst_ctr:
            copy_from(rt.containers, src_ctr, src_path, dst_path, **how)
        elif dst_ctr and not src_ctr:
            copy_to(rt.containers, args.src, dst_ctr, dst_path, **how)
        else:
            raise InvalidArgument(
                "copying between containers is not supported; one side must be a host path"
            )


def cmd_update(args: argparse.Namespace) -> int:
    from runtime.containers.model import parse_cpus, parse_size
    from runtime.errors import InvalidArgument

    changes: dict[str, Any] = {}
    if args.restart:
        changes["restart"] = args.restart
    for flag in ("memory", "memory_swap", "memory_reservation"):
        if getattr(args, flag):
            changes[flag] = parse_size(getattr(args, flag), "--" + flag.replace("_", "-"))
    if args.cpus:
        changes["cpus"] = parse_cpus(args.cpus)
    for flag in ("cpu_shares", "cpu_period", "cpu_quota", "pids_limit", "blkio_weight"):
        if getattr(args, flag) is not None:
            changes[flag] = getattr(args, flag)
    for flag in ("cpuset_cpus", "cpuset_mems"):
        if getattr(args, flag):
            changes[flag] = getattr(args, flag)
    if not changes:
        raise InvalidArgument("you must provide one or more flags when using this command")
    return _each(args, args.containers, lambda rt, n: rt.containers.update(n, **changes))


def cmd_prune(args: argparse.Namespace) -> int:
    from runtime.cli.images import _size

    if not args.force:
        answer = input(
            "WARNING! This will remove all stopped containers.\n"
            "Are you sure you want to continue? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            return 0
    with _runtime() as rt:
        report = rt.containers.prune()
    if report["ContainersDeleted"]:
        print("Deleted Containers:")
        for cid in report["ContainersDeleted"]:
            print(cid)
        print()
    print(f"Total reclaimed space: {_size(report['SpaceReclaimed'])}")
    return 0


# --- parsers --------------------------------------------------------------------------


def _create_flags(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("--help", action="help", help="show this help (-h is --hostname, as in docker)")
    a("-d", "--detach", action="store_true", help="run in the background, print the id")
    a("-a", "--attach", action="append", help="attach to STDIN, STDOUT or STDERR")
    a("--rm", action="store_true", help="remove the container when it exits")
    a("-i", "--interactive", action="store_true")
    a("-t", "--tty", action="store_true")
    a("--name")
    a("-e", "--env", action="append")
    a("--env-file", action="append")
    a("-w", "--workdir")
    a("-u", "--user")
    a("--entrypoint")
    a("-h", "--hostname")
    a("--domainname")
    a("-l", "--label", action="append")
    a("--label-file", action="append", help="read labels from a file of KEY=VALUE lines")
    a("--cidfile", help="write the container's id to this file (which must not exist)")
    a("--restart")
    a("--stop-signal")
    a("--stop-timeout", type=int)
    a("--health-cmd")
    a("--health-interval")
    a("--health-timeout")
    a("--health-start-period")
    a("--health-retries", type=int)
    a("--no-healthcheck", action="store_true")
    a("--init", action="store_true")
    a("--privileged", action="store_true")
    a("--read-only", action="store_true")
    a("--cap-add", action="append")
    a("--cap-drop", action="append")
    a("--security-opt", action="append")
    a("--sysctl", action="append")
    a("--ulimit", action="append")
    a("--network", "--net")
    a("--network-alias", "--net-alias", action="append")
    a("--ip")
    a("--mac-address", help="the MAC address of its interface (02:42:ac:11:00:99)")
    a("-p", "--publish", action="append")
    a("-P", "--publish-all", action="store_true")
    a("--expose", action="append")
    a("--dns", action="append")
    a("--dns-search", action="append")
    a("--dns-option", action="append")
    a("--add-host", action="append")
    a("--link", action="append", help="add a link to another container (NAME[:ALIAS])")
    a("-v", "--volume", action="append")
    a("--mount", action="append")
    a("--tmpfs", action="append")
    a("--volumes-from", action="append")
    a("-m", "--memory")
    a("--memory-swap")
    a("--memory-reservation")
    a("--cpus")
    a("-c", "--cpu-shares")
    a("--cpuset-cpus")
    a("--cpuset-mems", help="memory nodes the container may use (0-3, 0,1)")
    a("--oom-kill-disable", action="store_true", help="the kernel's OOM killer spares it")
    a("--memory-swappiness", type=int, help="0 to 100: how readily its pages are swapped")
    a("--pids-limit")
    a("--cpu-period", type=int)
    a("--cpu-quota", type=int)
    a("--blkio-weight", type=int)
    a("--device-read-bps", action="append")
    a("--device-write-bps", action="append")
    a("--shm-size")
    a("--oom-score-adj", type=int)
    a("--runtime")
    a("--log-driver", help="json-file (default) or none")
    a("--log-opt", action="append", help="json-file options: max-size=10m, max-file=3")
    a("--device", action="append", help="a host device: HOST[:CONTAINER][:rwm]")
    a("--cgroup-parent", help="the cgroup to make the container's own under (default /wharf)")
    a("--cgroupns", help="host or private: the cgroup namespace (default: host on cgroup v1)")
    a("--pid", help="host, or container:NAME to share that container's processes")
    a("--ipc", help="private (default), shareable, none, host or container:NAME")
    a("--uts", help="host: the host's host name (and no name of its own)")
    a("--userns", help="host (default) or private: root inside maps to /etc/subuid's range")
    a("--group-add", action="append", help="one more group for the process: a name or a gid")
    a("--pull", help="pull the image first: missing (default), always or never")
    a("--platform", help="os/arch[/variant] to pull when the image is pulled")
    a("-q", "--quiet", action="store_true", help="say nothing while pulling the image")
    a("image")
    a("command", nargs=argparse.REMAINDER)


def _detach_keys(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--detach-keys", help="the keys that detach from the container (default ctrl-p,ctrl-q)"
    )


def _sig_proxy(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sig-proxy",
        action="store_true",
        default=True,
        help="pass the signals we get on to the container (not with -t); --sig-proxy=false: not",
    )


def _names(p: argparse.ArgumentParser, dest: str = "containers") -> None:
    p.add_argument(dest, nargs="+", metavar="CONTAINER")


def _ps_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("-f", "--filter", action="append")
    p.add_argument("--format")
    p.add_argument("--no-trunc", action="store_true")
    p.add_argument("-s", "--size", action="store_true", help="display total file sizes")
    p.add_argument("-l", "--latest", action="store_true")
    p.add_argument("-n", "--last", type=int)
    p.set_defaults(func=cmd_ps)


def _build(kind: str, p: argparse.ArgumentParser) -> None:
    """Fill the parser of one verb (shared by ``wharf VERB`` and ``wharf container VERB``)."""
    a = p.add_argument
    if kind in ("run", "create"):
        _create_flags(p)
        if kind == "run":
            _sig_proxy(p)
            _detach_keys(p)
        p.set_defaults(
            func=cmd_run if kind == "run" else cmd_create, error_stage="create", error_verb=kind
        )
    elif kind == "start":
        a("-a", "--attach", action="store_true")
        a("-i", "--interactive", action="store_true")
        _detach_keys(p)
        _names(p)
        p.set_defaults(func=cmd_start)
    elif kind in ("stop", "restart"):
        a("-t", "--time", "--timeout", type=int)
        _names(p)
        p.set_defaults(func=cmd_stop if kind == "stop" else cmd_restart)
    elif kind == "kill":
        a("-s", "--signal", default="KILL")
        _names(p)
        p.set_defaults(func=cmd_kill)
    elif kind in ("pause", "unpause", "wait"):
        _names(p)
        p.set_defaults(func={"pause": cmd_pause, "unpause": cmd_unpause, "wait": cmd_wait}[kind])
    elif kind == "rm":
        a("-f", "--force", action="store_true")
        a("-v", "--volumes", action="store_true")
        _names(p)
        p.set_defaults(func=cmd_rm)
    elif kind == "logs":
        a("-f", "--follow", action="store_true")
        a("-n", "--tail")
        a("--since", help="only records from then on: 10m, 1.5s, a Unix time or RFC 3339")
        a("--until", help="only records before then (same forms as --since)")
        a("-t", "--timestamps", action="store_true")
        a("--details", action="store_true", help="show the extra attributes of each record")
        a("container")
        p.set_defaults(func=cmd_logs, missing_said_by_client=True)
    elif kind == "exec":
        a("-i", "--interactive", action="store_true")
        a("-t", "--tty", action="store_true")
        a("-d", "--detach", action="store_true")
        a("-u", "--user")
        a("-w", "--workdir")
        a("-e", "--env", action="append")
        a("--privileged", action="store_true")
        _detach_keys(p)
        a("container")
        a("command", nargs=argparse.REMAINDER)
        p.set_defaults(func=cmd_exec)
    elif kind == "attach":
        a("--no-stdin", action="store_true")
        _sig_proxy(p)
        _detach_keys(p)
        a("container")
        p.set_defaults(func=cmd_attach)
    elif kind == "ps":
        _ps_parser(p)
    elif kind == "inspect":
        a("-f", "--format")
        a("--type", help="container, image, network or volume")
        a("-s", "--size", action="store_true")
        a("names", nargs="+", metavar="NAME")
        p.set_defaults(func=cmd_inspect)
    elif kind == "top":
        a("container")
        a("ps_args", nargs=argparse.REMAINDER)
        p.set_defaults(func=cmd_top)
    elif kind == "stats":
        a("--no-stream", action="store_true")
        a("--no-trunc", action="store_true", help="do not truncate the output")
        a("-a", "--all", action="store_true")
        a("--format")
        a("containers", nargs="*")
        p.set_defaults(func=cmd_stats)
    elif kind == "rename":
        a("container")
        a("new_name")
        p.set_defaults(func=cmd_rename)
    elif kind == "commit":
        a("-c", "--change", action="append")
        a("-m", "--message")
        a("-a", "--author")
        a("-p", "--pause", type=lambda v: v != "false", default=True)
        a("container")
        a("repository", nargs="?")
        p.set_defaults(func=cmd_commit)
    elif kind == "diff":
        a("container")
        p.set_defaults(func=cmd_diff)
    elif kind == "export":
        a("-o", "--output")
        a("container")
        p.set_defaults(func=cmd_export)
    elif kind == "cp":
        a("-a", "--archive", action="store_true")
        a("-L", "--follow-link", action="store_true")
        a("src")
        a("dest")
        p.set_defaults(func=cmd_cp, missing_said_by_client=True)
    elif kind == "update":
        a("--restart", help="no, always, unless-stopped or on-failure[:N]")
        a("-m", "--memory", help="memory limit (512m, 1g)")
        a("--memory-swap", help="memory plus swap limit; -1: unlimited swap")
        a("--memory-reservation", help="memory soft limit")
        a("--cpus", help="number of CPUs (1.5)")
        a("-c", "--cpu-shares", type=int, help="relative CPU weight")
        a("--cpu-period", type=int, help="CPU CFS period (microseconds)")
        a("--cpu-quota", type=int, help="CPU CFS quota (microseconds)")
        a("--cpuset-cpus", help="CPUs it may run on (0-3, 0,1)")
        a("--cpuset-mems", help="memory nodes it may use (0-3, 0,1)")
        a("--pids-limit", type=int, help="most processes at once (-1: unlimited)")
        a("--blkio-weight", type=int, help="block I/O weight, 10 to 1000")
        _names(p)
        p.set_defaults(func=cmd_update)
    elif kind == "prune":
        a("-f", "--force", action="store_true")
        a("--filter", action="append")
        p.set_defaults(func=cmd_prune)


VERBS = (
    ("run", "Create and run a new container from an image"),
    ("create", "Create a new container"),
    ("start", "Start one or more stopped containers"),
    ("stop", "Stop one or more running containers"),
    ("restart", "Restart one or more containers"),
    ("kill", "Kill one or more running containers"),
    ("pause", "Pause all processes within one or more containers"),
    ("unpause", "Unpause all processes within one or more containers"),
    ("rm", "Remove one or more containers"),
    ("wait", "Block until containers stop, then print their exit codes"),
    ("logs", "Fetch the logs of a container"),
    ("exec", "Execute a command in a running container"),
    ("attach", "Attach to a running container's input and output"),
    ("ps", "List containers"),
    ("inspect", "Return low-level information on containers, images, networks or volumes"),
    ("top", "Display the running processes of a container"),
    ("stats", "Display a live stream of container resource usage"),
    ("rename", "Rename a container"),
    ("commit", "Create a new image from a container's changes"),
    ("diff", "Inspect changes to files or directories on a container's filesystem"),
    ("export", "Export a container's filesystem as a tar archive"),
    ("cp", "Copy files between a container and the local filesystem"),
    ("update", "Update configuration of one or more containers"),
)


def register(
    sub: argparse._SubParsersAction, groups: dict[str, argparse._SubParsersAction]
) -> None:
    """Add the container verbs and the ``container`` management command."""
    for name, help_text in VERBS:
        _build(name, sub.add_parser(name, help=help_text, add_help=name not in ("run", "create")))
    container = management_group(sub, groups, "container", "Manage containers")
    aliases = {"ps": ["ls", "list"], "rm": ["remove"]}
    for name, help_text in VERBS:
        _build(
            name,
            container.add_parser(
                name,
                aliases=aliases.get(name, []),
                help=help_text,
                add_help=name not in ("run", "create"),
            ),
        )
    _build("prune", container.add_parser("prune", help="Remove all stopped containers"))
