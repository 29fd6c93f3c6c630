"""Docker's rules for a container's config: image defaults merged with create options."""

from __future__ import annotations

import os
import signal as _signal
import socket
import time

from runtime.containers.model import ContainerSpec
from runtime.errors import InvalidArgument

ZERO_TIME = "0001-01-01T00:00:00Z"
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def now_iso() -> str:
    """Return the current UTC time in RFC 3339 with nanoseconds, as Docker prints it."""
    ns = time.time_ns()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + f".{ns % 10**9:09d}Z"


def signal_number(sig: str | int) -> int:
    """Parse ``KILL``, ``SIGKILL`` or ``9`` into a signal number."""
    if isinstance(sig, int) or str(sig).isdigit():
        return int(sig)
    name = str(sig).upper()
    name = name if name.startswith("SIG") else f"SIG{name}"
    try:
        return int(getattr(_signal.Signals, name))
    except AttributeError:
        raise InvalidArgument(f"invalid signal: {sig}") from None


def merge_config(spec: ContainerSpec, image_cfg: dict, ctr_id: str, image_ref: str) -> dict:
    """Combine the image's config with the create options, with Docker's rules."""
    entrypoint = image_cfg.get("Entrypoint")
    cmd = image_cfg.get("Cmd")
    if spec.entrypoint is not None:
        entrypoint = spec.entrypoint or None
        cmd = None  # a new entrypoint drops the image's CMD, as Docker does
    if spec.cmd:
        cmd = spec.cmd
    env: dict[str, str] = {}
    for item in (image_cfg.get("Env") or []) + spec.env:
        key = item.split("=", 1)[0]
        env[key] = item
    labels = dict(image_cfg.get("Labels") or {})
    labels.update(spec.labels)
    exposed = dict(image_cfg.get("ExposedPorts") or {})
    for port in spec.expose:
        exposed[port if "/" in port else f"{port}/tcp"] = {}
    from runtime.network.ports import parse_publish

    for flag in spec.ports:  # as Docker: a published port is an exposed one
        for req in parse_publish(flag):
            exposed[f"{req.ctr_port}/{req.proto}"] = {}
    # Docker's client: -a names the streams; without it stdout and stderr (and stdin
    # with -i); -d attaches none
    streams = spec.attach if spec.attach is not None else ["stdout", "stderr"]
    attach_stdin = spec.attach != [] and (spec.stdin_open or "stdin" in streams)
    return {
        "Hostname": spec.hostname
        or (
            socket.gethostname()
            if spec.network == "host" or spec.uts_mode == "host"
            else ctr_id[:12]
        ),
        "Domainname": spec.domainname,
        "User": spec.user or image_cfg.get("User") or "",
        "AttachStdin": attach_stdin,
        "AttachStdout": "stdout" in streams,
        "AttachStderr": "stderr" in streams,
        "ExposedPorts": exposed or None,
        "Tty": spec.tty,
        "OpenStdin": spec.stdin_open,
        "StdinOnce": spec.stdin_open and attach_stdin,
        "Env": list(env.values()),
        "Cmd": cmd,
        "Healthcheck": merge_health(spec.healthcheck, image_cfg.get("Healthcheck")),
        "Image": image_ref,
        "Volumes": image_cfg.get("Volumes"),
        "WorkingDir": spec.workdir or image_cfg.get("WorkingDir") or "",
        "Entrypoint": entrypoint,
        **({"MacAddress": spec.mac_address} if spec.mac_address else {}),
        "OnBuild": image_cfg.get("OnBuild"),
        "Labels": labels,
        "StopSignal": spec.stop_signal or image_cfg.get("StopSignal") or None,
        **({"StopTimeout": spec.stop_timeout} if spec.stop_timeout is not None else {}),
    }


def merge_health(user: dict | None, image: dict | None) -> dict | None:
    """Docker's merge of --health-* flags over the image's HEALTHCHECK: each zero or empty
    field of the flags takes the image's value, so ``--health-interval`` alone tunes it."""
    if not user:
        return image
    merged = dict(user)
    for key, value in (image or {}).items():
        if not merged.get(key):
            merged[key] = value
    return merged if merged.get("Test") else None


def parse_security_opts(opts: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for opt in opts:
        key, sep, value = opt.partition("=" if "=" in opt else ":")
        if key not in ("seccomp", "no-new-privileges", "apparmor", "label"):
            raise InvalidArgument(f"invalid --security-opt: {opt!r}")
        if key == "seccomp" and value != "unconfined" and not os.path.isfile(value):
            raise InvalidArgument(f"opening seccomp profile ({value}) failed: no such file")
        out[key] = value if sep else ""
    return out


def parse_ulimit(text: str) -> tuple[str, int, int]:
    name, _, values = text.partition("=")
    soft, _, hard = values.partition(":")
    try:
        return name, int(soft), int(hard or soft)
    except ValueError:
        raise InvalidArgument(f"invalid ulimit argument: {text!r}") from None
