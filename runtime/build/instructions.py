"""Apply a Dockerfile's configuration instructions (ENV, CMD, LABEL, …) to an image config.

One applier for ``build``, ``commit --change`` and ``import --change``, so an
instruction means the same thing wherever it is written: ``ENV A hello world``,
``HEALTHCHECK --interval=1m30s CMD …`` and ``ONBUILD …`` behave alike in all three.
The config is Docker's ``Config`` section (Env, Cmd, Entrypoint, Labels, …).
"""

from __future__ import annotations

import json
import os
from typing import Any

from runtime.build.errors import BuildError
from runtime.build.parser import Instruction, parse
from runtime.build.substitution import expand_word, split_words
from runtime.errors import InvalidArgument
from runtime.timefmt import parse_duration

DEFAULT_SHELL = ["/bin/sh", "-c"]
#: what ``commit --change`` and ``import --change`` accept (Docker's validCommitCommands)
CHANGE_COMMANDS = (
    "CMD",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "HEALTHCHECK",
    "LABEL",
    "ONBUILD",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
)
#: the instructions that only change the config (no layer, no container)
CONFIG_COMMANDS = frozenset((*CHANGE_COMMANDS, "MAINTAINER", "SHELL"))
_HEALTH_DURATIONS = {
    "interval": "Interval",
    "timeout": "Timeout",
    "start-period": "StartPeriod",
    "start-interval": "StartInterval",
}


def apply_changes(config: dict, changes: list[str] | tuple[str, ...]) -> dict:
    """Return a copy of ``config`` with each ``--change`` line applied, as Docker's commit/import."""
    out = json.loads(json.dumps(config))
    cmd_set = False
    for change in changes:
        try:
            instructions = parse(change).instructions
        except BuildError as exc:
            raise InvalidArgument(f"--change {change!r}: {exc}") from None
        for ins in instructions:
            if ins.cmd not in CHANGE_COMMANDS:
                raise InvalidArgument(f"{ins.cmd} is not a valid change command")
            ins.line = 0  # errors name the change, not a Dockerfile line
            try:
                apply_instruction(out, ins, _env(out), cmd_set=cmd_set)
            except BuildError as exc:
                raise InvalidArgument(f"--change {change!r}: {exc}") from None
            cmd_set = cmd_set or ins.cmd == "CMD"
    return out


def _env(config: dict) -> dict[str, str]:
    return dict(e.partition("=")[::2] for e in config.get("Env") or [])


def apply_instruction(
    config: dict, ins: Instruction, env: dict[str, str], escape: str = "\\", cmd_set: bool = False
) -> str:
    """Apply one configuration instruction to ``config`` in place; return its history text.

    ``env`` is what variables expand to (the build's ARGs and the config's ENV);
    ``cmd_set`` says whether a CMD came earlier in this stage (then ENTRYPOINT keeps it).
    """
    line = ins.line or None
    cmd = ins.cmd
    if cmd == "ENV":
        pairs = _pairs(ins, env, escape, line)
        entries = list(config.get("Env") or [])
        for key, value in pairs:
            item = f"{key}={value}"
            at = [i for i, e in enumerate(entries) if e.partition("=")[0] == key]
            if at:
                entries[at[0]] = item  # Docker replaces in place: PATH stays first
            else:
                entries.append(item)
        config["Env"] = entries
        return f"ENV {' '.join(f'{k}={v}' for k, v in pairs)}"
    if cmd == "LABEL":
        pairs = _pairs(ins, env, escape, line)
        config["Labels"] = {**(config.get("Labels") or {}), **dict(pairs)}
        return f"LABEL {' '.join(f'{k}={v}' for k, v in pairs)}"
    if cmd == "MAINTAINER":
        return f"MAINTAINER {ins.args}"
    if cmd == "WORKDIR":
        path = expand_word(ins.args, env, escape, line)
        if not path.startswith("/"):
            path = os.path.join(config.get("WorkingDir") or "/", path)
        config["WorkingDir"] = os.path.normpath(path)
        return f"WORKDIR {config['WorkingDir']}"
    if cmd == "USER":
        config["User"] = expand_word(ins.args, env, escape, line)
        return f"USER {config['User']}"
    if cmd == "CMD":
        config["Cmd"] = command(config, ins)
        return f"CMD {json.dumps(config['Cmd'])}"
    if cmd == "ENTRYPOINT":
        config["Entrypoint"] = command(config, ins)
        if not cmd_set:
            config["Cmd"] = None  # Docker: a new ENTRYPOINT drops an inherited CMD
        return f"ENTRYPOINT {json.dumps(config['Entrypoint'])}"
    if cmd == "SHELL":
        config["Shell"] = ins.json_args
        return f"SHELL {json.dumps(ins.json_args)}"
    if cmd == "EXPOSE":
        ports = {}
        for word in split_words(ins.args, env, escape, line):
            port, _, proto = word.partition("/")
            if not port.replace("-", "").isdigit() or proto.lower() not in (
                "",
                "tcp",
                "udp",
                "sctp",
            ):
                raise BuildError(f"invalid containerPort: {word}", line)
            ports[f"{port}/{proto.lower() or 'tcp'}"] = {}
        config["ExposedPorts"] = {**(config.get("ExposedPorts") or {}), **ports}
        return f"EXPOSE {' '.join(ports)}"
    if cmd == "VOLUME":
        paths = (
            ins.json_args if ins.json_args is not None else split_words(ins.args, env, escape, line)
        )
        if not paths or any(not p.strip() for p in paths):
            raise BuildError("VOLUME specified can not be an empty string", line)
        config["Volumes"] = {**(config.get("Volumes") or {}), **{p: {} for p in paths}}
        return f"VOLUME {json.dumps(paths)}"
    if cmd == "STOPSIGNAL":
        config["StopSignal"] = expand_word(ins.args, env, escape, line)
        return f"STOPSIGNAL {config['StopSignal']}"
    if cmd == "ONBUILD":
        inner = ins.args.split(None, 1)[0].upper() if ins.args else ""
        if inner in ("ONBUILD", "FROM", "MAINTAINER"):
            raise BuildError(f"{inner} isn't allowed as an ONBUILD trigger", line)
        config["OnBuild"] = [*(config.get("OnBuild") or []), ins.args]
        return f"ONBUILD {ins.args}"
    if cmd == "HEALTHCHECK":
        config["Healthcheck"] = _healthcheck(ins, line)
        return f"HEALTHCHECK {ins.args}"
    raise BuildError(f"{cmd} does not change the image config", line)


def command(config: dict, ins: Instruction) -> list[str]:
    """Return an exec-form command: the JSON form as given, the shell form under SHELL."""
    if ins.json_args is not None:
        return ins.json_args
    if not ins.args:
        return []
    return [*(config.get("Shell") or DEFAULT_SHELL), ins.args]


def _healthcheck(ins: Instruction, line: int | None) -> dict[str, Any]:
    if ins.args.upper() == "NONE":
        return {"Test": ["NONE"]}
    kind, _, rest = ins.args.partition(" ")
    if kind.upper() != "CMD":
        raise BuildError("HEALTHCHECK must be NONE or [OPTIONS] CMD command", line)
    check: dict[str, Any] = {}
    for flag, value in ins.flags.items():
        if flag in _HEALTH_DURATIONS:
            try:
                ns = parse_duration(value)
            except InvalidArgument as exc:
                raise BuildError(f"HEALTHCHECK --{flag}: {exc}", line) from None
            if 0 < ns < 1_000_000:
                raise BuildError(f'Interval "{flag}" cannot be less than 1ms', line)
            if ns:
                check[_HEALTH_DURATIONS[flag]] = ns
        elif flag == "retries":
            if not value.isdigit():
                raise BuildError(f"HEALTHCHECK --retries={value}: not a number", line)
            check["Retries"] = int(value)
        else:
            raise BuildError(f"unknown flag for HEALTHCHECK: --{flag}", line)
    rest = rest.strip()
    test = ["CMD", *json.loads(rest)] if rest.startswith("[") else ["CMD-SHELL", rest]
    return {"Test": test, **check}


def _pairs(
    ins: Instruction, env: dict[str, str], escape: str, line: int | None
) -> list[tuple[str, str]]:
    """KEY=VALUE pairs, or the old ``KEY value with spaces`` form (one pair)."""
    words = split_words(ins.args, env, escape, line)
    if words and "=" not in words[0]:
        if len(words) < 2:
            raise BuildError(f"{ins.cmd} {ins.args}: missing value", line)
        key, _, value = ins.args.partition(" ")
        return [(key, expand_word(value.strip(), env, escape, line))]
    pairs = []
    for w in words:
        key, eq, value = w.partition("=")
        if not eq or not key:
            raise BuildError(f"{ins.cmd} needs KEY=VALUE pairs, got {w!r}", line)
        pairs.append((key, value))
    return pairs
