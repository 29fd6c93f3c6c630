"""Apply ``commit --change`` instructions (a Dockerfile subset) to an image config."""

from __future__ import annotations

import json
import shlex

from runtime.errors import InvalidArgument

ALLOWED = (
    "CMD",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "LABEL",
    "ONBUILD",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
)


def _list_form(value: str) -> list[str]:
    value = value.strip()
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            raise InvalidArgument(f"invalid JSON in --change: {value}") from None
        return [str(x) for x in parsed]
    return ["/bin/sh", "-c", value]


def _pairs(value: str) -> list[tuple[str, str]]:
    words = shlex.split(value)
    if len(words) == 2 and "=" not in words[0]:
        return [(words[0], words[1])]
    out = []
    for w in words:
        key, sep, val = w.partition("=")
        if not sep:
            raise InvalidArgument(f"invalid --change value: {value!r} (expected KEY=VALUE)")
        out.append((key, val))
    return out


def apply_changes(config: dict, changes: list[str]) -> dict:
    """Return ``config`` with each ``INSTRUCTION args`` applied, as ``docker commit -c`` does."""
    for change in changes:
        instr, _, value = change.strip().partition(" ")
        instr = instr.upper()
        if instr not in ALLOWED:
            raise InvalidArgument(f"{instr} is not a valid change command")
        if instr == "CMD":
            config["Cmd"] = _list_form(value)
        elif instr == "ENTRYPOINT":
            config["Entrypoint"] = _list_form(value)
        elif instr == "ENV":
            env = {e.split("=", 1)[0]: e for e in config.get("Env") or []}
            for k, v in _pairs(value):
                env[k] = f"{k}={v}"
            config["Env"] = list(env.values())
        elif instr == "LABEL":
            labels = dict(config.get("Labels") or {})
            labels.update(dict(_pairs(value)))
            config["Labels"] = labels
        elif instr == "EXPOSE":
            ports = dict(config.get("ExposedPorts") or {})
            for p in value.split():
                ports[p if "/" in p else f"{p}/tcp"] = {}
            config["ExposedPorts"] = ports
        elif instr == "VOLUME":
            vols = dict(config.get("Volumes") or {})
            for v in json.loads(value) if value.strip().startswith("[") else value.split():
                vols[v] = {}
            config["Volumes"] = vols
        elif instr == "USER":
            config["User"] = value.strip()
        elif instr == "WORKDIR":
            config["WorkingDir"] = value.strip()
        elif instr == "STOPSIGNAL":
            config["StopSignal"] = value.strip()
        elif instr == "ONBUILD":
            config["OnBuild"] = [*(config.get("OnBuild") or []), value.strip()]
    return config
