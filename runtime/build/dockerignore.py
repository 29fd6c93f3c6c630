"""``.dockerignore`` with Docker's rules: Go-style globs, ``**``, ``!`` exceptions, last match wins."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    exclusion: bool  # a "!pattern": the path is included again
    text: str


def parse_dockerignore(text: str) -> list[Pattern]:
    """Return the patterns of a .dockerignore file, in order."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        line = posixpath.normpath(line.lstrip("/")) if line not in (".", "/") else "."
        out.append(Pattern(re.compile(_to_regex(line)), exclusion, line))
    return out


def is_ignored(path: str, patterns: list[Pattern]) -> bool:
    """Return whether a context-relative path is excluded (a parent's match counts too)."""
    path = posixpath.normpath(path.lstrip("/"))
    ignored = False
    parents = _prefixes(path)
    for pat in patterns:
        if any(pat.regex.match(p) for p in parents):
            ignored = not pat.exclusion
    return ignored


def _prefixes(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _to_regex(pattern: str) -> str:
    out = ["^"]
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if pattern[i : i + 2] == "**":
                i += 2
                if pattern[i : i + 1] == "/":
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    return "".join(out)
