"""Parse a Dockerfile into instructions with their line numbers.

Handles parser directives (``# escape=``, ``# syntax=``), comments, line
continuations (also across blank and comment lines), flags (``--from=…``),
JSON (exec) forms and heredocs (``RUN <<EOF``). Variable substitution happens
later, in the builder, because it depends on ARG and ENV values in effect.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from runtime.build.errors import BuildError

INSTRUCTIONS = {
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
}
JSON_FORMS = {"RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"}
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_HEREDOC = re.compile(r"<<(-?)(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")


@dataclass
class Instruction:
    cmd: str  # upper-case keyword
    args: str  # the rest of the line, continuations joined, flags removed
    line: int
    flags: dict[str, str] = field(default_factory=dict)
    json_args: list[str] | None = None  # set for the exec (JSON) form
    heredocs: list[tuple[str, str]] = field(default_factory=list)  # (name, content)
    original: str = ""

    def __str__(self) -> str:
        return self.original


@dataclass
class Dockerfile:
    instructions: list[Instruction]
    escape: str = "\\"
    syntax: str = ""


def parse(text: str) -> Dockerfile:
    """Parse Dockerfile text; raise BuildError naming the line of anything malformed."""
    lines = text.splitlines()
    escape, syntax = "\\", ""
    i = 0
    # directives: only at the very top, before any other line (blank lines end them)
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if not m:
            break
        key, value = m.group(1).lower(), m.group(2)
        if key == "escape":
            if value not in ("\\", "`"):
                raise BuildError(f"invalid escape token {value!r}: must be ` or \\", i + 1)
            escape = value
        elif key == "syntax":
            syntax = value
        i += 1
    out: list[Instruction] = []
    while i < len(lines):
        raw = lines[i]
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        start = i
        parts = [raw]
        while _continues(parts[-1], escape):
            parts[-1] = parts[-1].rstrip()[:-1]
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].strip().startswith("#")):
                i += 1  # blank and comment lines inside a continuation are dropped
            if i >= len(lines):
                break
            parts.append(lines[i])
        i += 1
        logical = " ".join(p.strip() for p in parts).strip()
        instr = _instruction(logical, start + 1)
        if instr.cmd in ("RUN", "COPY", "ADD"):
            for m in _HEREDOC.finditer(instr.args):
                body, i = _read_heredoc(
                    lines, i, m.group(3), strip_tabs=m.group(1) == "-", line=start + 1
                )
                instr.heredocs.append((m.group(3), body))
        out.append(instr)
    return Dockerfile(out, escape, syntax)


def _continues(line: str, escape: str) -> bool:
    s = line.rstrip()
    return s.endswith(escape) and not s.endswith(escape * 2)


def _read_heredoc(
    lines: list[str], i: int, name: str, strip_tabs: bool, line: int
) -> tuple[str, int]:
    body = []
    while i < len(lines):
        text = lines[i].lstrip("\t") if strip_tabs else lines[i]
        if text == name:
            return "\n".join(body) + "\n", i + 1
        body.append(text)
        i += 1
    raise BuildError(f"unterminated heredoc <<{name}", line)


def _instruction(logical: str, line: int) -> Instruction:
    keyword, _, rest = logical.partition(" ")
    cmd = keyword.upper()
    if cmd not in INSTRUCTIONS:
        raise BuildError(f"unknown instruction: {keyword}", line)
    rest = rest.strip()
    flags: dict[str, str] = {}
    while rest.startswith("--"):
        token, _, remainder = rest.partition(" ")
        name, eq, value = token[2:].partition("=")
        if not name:
            break
        flags[name.lower()] = value if eq else "true"
        rest = remainder.strip()
    instr = Instruction(cmd, rest, line, flags, original=logical)
    if cmd in JSON_FORMS and rest.startswith("["):
        try:
            value = json.loads(rest)
        except ValueError:
            value = None  # not JSON after all: Docker then treats it as the shell form
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            instr.json_args = value
    if cmd == "SHELL" and instr.json_args is None:
        raise BuildError("SHELL requires the arguments to be in JSON form", line)
    if not rest and cmd not in ("CMD", "ENTRYPOINT", "RUN") and not (cmd == "ONBUILD"):
        raise BuildError(f"{cmd} requires at least one argument", line)
    return instr
