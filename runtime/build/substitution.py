"""Docker's variable substitution and word splitting for Dockerfile instructions.

Supports ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
``${VAR:+alt}``, ``${VAR+alt}``, escaping with the escape character, and single
and double quotes (single quotes stop substitution), as Docker's builder does
for ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, ARG
and ONBUILD. Unlike Docker, a variable used without a default that no ARG or ENV
declared is an error, not an empty string.
"""

from __future__ import annotations

import re

from runtime.build.errors import BuildError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def expand(text: str, env: dict[str, str], escape: str = "\\", line: int | None = None) -> str:
    """Return ``text`` with variables expanded; quotes and escapes are kept for word splitting."""
    return "".join(_expand(text, env, escape, line, keep_quotes=True))


def split_words(
    text: str, env: dict[str, str] | None, escape: str = "\\", line: int | None = None
) -> list[str]:
    """Split into words like a shell would (quotes removed), expanding variables if ``env``."""
    words: list[str] = []
    current: list[str] = []
    has_word = False
    i, quote = 0, ""
    while i < len(text):
        ch = text[i]
        if quote != "'" and ch == escape and i + 1 < len(text):
            current.append(text[i + 1])
            has_word = True
            i += 2
            continue
        if quote:
            if ch == quote:
                quote = ""
                i += 1
                continue
            if quote == '"' and ch == "$" and env is not None:
                value, i = _variable(text, i, env, escape, line)
                current.append(value)
                continue
            current.append(ch)
            i += 1
            continue
        if ch in "'\"":
            quote, has_word = ch, True
            i += 1
            continue
        if ch.isspace():
            if has_word or "".join(current):
                words.append("".join(current))
                current, has_word = [], False
            i += 1
            continue
        if ch == "$" and env is not None:
            value, i = _variable(text, i, env, escape, line)
            current.append(value)
            has_word = has_word or bool(value)
            continue
        current.append(ch)
        has_word = True
        i += 1
    if quote:
        raise BuildError(f"unexpected end of statement while looking for matching {quote}", line)
    if has_word or "".join(current):
        words.append("".join(current))
    return words


def expand_word(text: str, env: dict[str, str], escape: str = "\\", line: int | None = None) -> str:
    """Expand and unquote text that is one value (e.g. a WORKDIR), keeping inner spaces."""
    return " ".join(split_words(text, env, escape, line)) if text.strip() else ""


def _expand(
    text: str, env: dict[str, str], escape: str, line: int | None, keep_quotes: bool
) -> list[str]:
    out: list[str] = []
    i, quote = 0, ""
    while i < len(text):
        ch = text[i]
        if quote != "'" and ch == escape and i + 1 < len(text):
            out.append(text[i : i + 2])
            i += 2
            continue
        if ch in "'\"":
            if not quote:
                quote = ch
            elif quote == ch:
                quote = ""
            out.append(ch)
            i += 1
            continue
        if ch == "$" and quote != "'":
            value, i = _variable(text, i, env, escape, line)
            out.append(value)
            continue
        out.append(ch)
        i += 1
    return out


def _variable(
    text: str, i: int, env: dict[str, str], escape: str, line: int | None
) -> tuple[str, int]:
    """Expand the variable starting at text[i] == '$'; return its value and the next index."""
    if i + 1 < len(text) and text[i + 1] == "{":
        end = _closing_brace(text, i + 2)
        if end < 0:
            raise BuildError(f"missing '}}' in {text!r}", line)
        body = text[i + 2 : end]
        m = _NAME.match(body)
        if not m:
            raise BuildError(f"bad substitution in {text!r}", line)
        name, rest = m.group(0), body[m.end() :]
        value = env.get(name)
        if not rest:
            return _declared(name, env, line), end + 1
        for op in (":-", ":+", "-", "+"):
            if rest.startswith(op):
                word = "".join(_expand(rest[len(op) :], env, escape, line, keep_quotes=False))
                if op == ":-":
                    return (value if value else word), end + 1
                if op == "-":
                    return (value if value is not None else word), end + 1
                if op == ":+":
                    return (word if value else ""), end + 1
                return (word if value is not None else ""), end + 1
        raise BuildError(
            f"unsupported modifier {rest[:2]!r} in substitution {text[i : end + 1]!r}", line
        )
    m = _NAME.match(text, i + 1)
    if not m:
        return "$", i + 1
    return _declared(m.group(0), env, line), m.end()


def _declared(name: str, env: dict[str, str], line: int | None) -> str:
    """The value of a variable used without a default; one never declared is an error.

    Docker's builder silently makes it empty, which hides a typo or a missing ARG
    until the image misbehaves; ``${NAME:-}`` still asks for an empty default.
    """
    if name not in env:
        raise BuildError(
            f"${name} is used but not declared: add ARG {name} (or ENV {name}=...) before it, "
            f"or write ${{{name}:-}} for an empty default",
            line,
        )
    return env[name]


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    for j in range(start, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return -1
