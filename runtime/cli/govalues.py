"""Go's renderings of values, for templates that must print what Docker prints.

Docker's ``--format`` output is Go's ``fmt`` and ``encoding/json`` applied to
Go values; scripts parse that text, so Wharf reproduces it from Python values:
``dict`` is a Go map (keys sorted), ``Record`` a Go struct (fields in order),
``list`` a slice, ``None`` nil, ``GoDuration`` a ``time.Duration``. ``MISSING``
is Go's invalid value (a map key that is not there), printed ``<no value>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any


class _Missing:
    """Go's invalid reflect.Value: what a missing map key evaluates to."""

    def __repr__(self) -> str:
        return "<no value>"


MISSING: Any = _Missing()


class Record(dict):
    """A Go struct: named fields in declaration order, and methods that take arguments.

    ``go_type`` names the struct in Go's error text (``can't evaluate field X in
    type *formatter.ContainerContext``); without it a missing field is reported
    as Docker's inspect fallback reports it (``map has no entry for key "X"``).
    """

    def __init__(
        self,
        fields: Iterable[tuple[str, Any]] | dict[str, Any] = (),
        go_type: str | None = None,
        methods: dict[str, Callable[..., Any]] | None = None,
    ) -> None:
        super().__init__(fields)
        self.go_type = go_type
        self.methods = methods or {}


class NilSlice(list):
    """A Go nil slice (a JSON ``null`` of a slice field): prints ``[]``, encodes as ``null``."""


class NilMap(dict):
    """A Go nil map (a JSON ``null`` of a map field): prints ``map[]``, encodes as ``null``."""


class GoDuration(int):
    """Nanoseconds that print as Go's ``time.Duration`` does (``1m30s``) and encode as a number."""

    def __str__(self) -> str:
        return go_duration(int(self))


def go_duration(ns: int) -> str:
    """Render nanoseconds as Go's ``time.Duration.String``: ``2s``, ``1m30s``, ``1.5ms``, ``0s``."""
    if ns == 0:
        return "0s"
    sign, u = ("-" if ns < 0 else ""), abs(ns)
    if u < 1000:
        return f"{sign}{u}ns"
    if u < 1_000_000:
        return f"{sign}{_fraction(u, 1000)}µs"
    if u < 1_000_000_000:
        return f"{sign}{_fraction(u, 1_000_000)}ms"
    hours, rest = divmod(u, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    text = _fraction(rest, 10**9) + "s"
    if hours or minutes:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return sign + text


def _fraction(value: int, unit: int) -> str:
    whole, part = divmod(value, unit)
    if not part:
        return str(whole)
    digits = str(part).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


def go_float(f: float, json: bool = False) -> str:
    """``%v`` of a float64: shortest digits, exponent form below 1e-4 and from 1e6 (Go's %g).

    With ``json``, encoding/json's rule: exponent form only from 1e21 (below 1e-6 the
    caller switches)."""
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if str(f).startswith("-") else "0"
    sign, digits, exp = Decimal(repr(f)).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + int(exp)  # digits before the decimal point
    x = point - 1
    neg = "-" if sign else ""
    if x < -4 or x >= 21 or (x >= 6 and not json):
        mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        return f"{neg}{mant}e{'-' if x < 0 else '+'}{abs(x):02d}"
    if point <= 0:
        return f"{neg}0.{'0' * -point}{ds}"
    if point >= len(ds):
        return neg + ds + "0" * (point - len(ds))
    return f"{neg}{ds[:point]}.{ds[point:]}"


def go_str(value: Any, top: bool = True) -> str:
    """``fmt.Sprint`` of one value: ``[a b]``, ``map[k:v]``, ``{f1 f2}``, ``<nil>``, ``true``."""
    if value is MISSING:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, GoDuration):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str | int):
        return str(value)
    if isinstance(value, Record):
        return "{" + " ".join(go_str(v, False) for v in value.values()) + "}"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: _sort_key(kv[0]))
        return "map[" + " ".join(f"{go_str(k, False)}:{go_str(v, False)}" for k, v in items) + "]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_str(v, False) for v in value) + "]"
    return str(value)


def _sort_key(key: Any) -> tuple:
    return (0, key, "") if isinstance(key, int | float) else (1, 0, str(key))


def go_type_name(value: Any) -> str:
    """The Go type a value stands for, as Go's error messages name it."""
    if value is None or value is MISSING:
        return "interface {}"
    if isinstance(value, Record):
        return value.go_type or "map[string]interface {}"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, GoDuration):
        return "time.Duration"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, str) for v in value):
            return "[]string"
        return "[]interface {}"
    return type(value).__name__


# --- encoding/json --------------------------------------------------------------------


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _json_string(s: str) -> str:
    out = []
    for ch in s:
        if ch in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[ch])
        elif ord(ch) < 0x20 or ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _json_float(f: float) -> str:
    """encoding/json: plain digits from 1e-6 to 1e21, else ``1e-7``/``1e+21`` (no zero pad)."""
    if f == int(f) and abs(f) < 1e21:
        return str(int(f))
    if abs(f) < 1e-6 or abs(f) >= 1e21:
        mant, _, exp = repr(f).partition("e")
        if not exp:
            mant, _, exp = f"{f:e}".partition("e")
            mant = mant.rstrip("0").rstrip(".")
        sign = "-" if exp.startswith("-") else "+"
        return f"{mant}e{sign}{int(exp.lstrip('+-'))}"
    return go_float(f, json=True)


def go_json(value: Any) -> str:
    """Docker's ``json`` template function: compact, maps with sorted keys, HTML not escaped.

    Docker's encoder calls ``SetEscapeHTML(false)``, so ``<`` stays ``<``; Go still
    escapes U+2028 and U+2029.
    """
    if value is None or value is MISSING or isinstance(value, NilSlice | NilMap):
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _json_float(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, Record):
        return "{" + ",".join(f"{_json_string(k)}:{go_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        return "{" + ",".join(f"{_json_string(str(k))}:{go_json(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    return _json_string(str(value))


# --- fmt verbs ------------------------------------------------------------------------


def go_quote(s: str) -> str:
    """``strconv.Quote``: Go's double-quoted string with Go's escapes."""
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(ch)])
        elif ch.isprintable():
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_VERB = re.compile(r"%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])")


def go_sprintf(fmt: str, args: list[Any]) -> str:
    """``fmt.Sprintf`` for the verbs templates use: %s %v %d %q %t %x %X %f %e %g %c %o %b %%."""
    out: list[str] = []
    pos = 0
    i = 0
    for m in _VERB.finditer(fmt):
        out.append(fmt[pos : m.start()])
        pos = m.end()
        flags, width, prec, verb = m.group(1), m.group(2), m.group(3), m.group(4)
        if verb == "%":
            out.append("%")
            continue
        if width == "*":
            width, i = (str(args[i]) if i < len(args) else None), i + 1
        if prec == "*":
            prec, i = (str(args[i]) if i < len(args) else None), i + 1
        if i >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[i]
        i += 1
        text = _one_verb(verb, flags, None if prec is None else int(prec or 0), arg)
        out.append(_pad(text, flags, int(width) if width else 0, verb))
    out.append(fmt[pos:])
    if i < len(args):
        extra = ", ".join(f"{go_type_name(a)}={go_str(a)}" for a in args[i:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _pad(text: str, flags: str, width: int, verb: str) -> str:
    if len(text) >= width:
        return text
    if "-" in flags:
        return text.ljust(width)
    if "0" in flags and verb in "dxXobfeEgG":
        sign = text[0] if text[:1] in "+-" else ""
        return sign + text[len(sign) :].rjust(width - len(sign), "0")
    return text.rjust(width)


def _bad(verb: str, arg: Any) -> str:
    return f"%!{verb}({go_type_name(arg)}={go_str(arg)})"


def _compound(verb: str, flags: str, prec: int | None, arg: Any) -> str:
    """A verb applied to a slice, map or struct: Go applies it to each element."""
    if isinstance(arg, Record):
        return "{" + " ".join(_one_verb(verb, flags, prec, v) for v in arg.values()) + "}"
    if isinstance(arg, dict):
        items = sorted(arg.items(), key=lambda kv: _sort_key(kv[0]))
        inner = " ".join(
            f"{_one_verb(verb, flags, prec, k)}:{_one_verb(verb, flags, prec, v)}" for k, v in items
        )
        return "map[" + inner + "]"
    return "[" + " ".join(_one_verb(verb, flags, prec, v) for v in arg) + "]"


def _one_verb(verb: str, flags: str, prec: int | None, arg: Any) -> str:
    is_int = isinstance(arg, int) and not isinstance(arg, bool)
    if verb == "T":
        return go_type_name(arg)
    if isinstance(arg, list | tuple | dict) and verb in "vsdqxXfeEgGt":
        return _compound(verb, flags, prec, arg)
    if verb == "v":
        if isinstance(arg, str) and "#" in flags:
            return go_quote(arg)
        if isinstance(arg, float) and prec is not None:
            return _one_verb("g", flags, prec, arg)
        if isinstance(arg, str) and prec is not None:
            return arg[:prec]
        return go_str(arg)
    if verb == "s":
        if isinstance(arg, bool | int | float) or arg is None:
            return _bad(verb, arg)
        text = go_str(arg)
        return text[:prec] if prec is not None else text
    if verb == "U":
        return f"U+{int(arg):04X}" if is_int else _bad(verb, arg)
    if verb == "q":
        if isinstance(arg, str):
            return go_quote(arg)
        if is_int:
            return "'" + chr(arg) + "'"
        return _bad(verb, arg)
    if verb == "t":
        return go_str(arg) if isinstance(arg, bool) else _bad(verb, arg)
    if verb == "d":
        if not is_int:
            return _bad(verb, arg)
        return _sign(str(int(arg)), flags, arg >= 0)
    if verb in "xX":
        if is_int:
            text = format(int(arg), "x")
        elif isinstance(arg, str):
            text = arg.encode().hex()
        elif isinstance(arg, float):
            return _bad(verb, arg)
        else:
            return _bad(verb, arg)
        if "#" in flags:
            text = "0x" + text
        return text.upper() if verb == "X" else text
    if verb in "ob":
        return format(int(arg), verb) if is_int else _bad(verb, arg)
    if verb == "c":
        return chr(arg) if is_int else _bad(verb, arg)
    if verb in "feEgG":
        if not isinstance(arg, float):
            return _bad(verb, arg)
        if verb in "gG" and prec is None:
            text = go_float(arg)
            text = text.upper() if verb == "G" else text
        else:
            text = format(arg, f".{6 if prec is None else prec}{verb}")
        return _sign(text, flags, arg >= 0)
    return _bad(verb, arg)


def _sign(text: str, flags: str, positive: bool) -> str:
    """The ``+`` and space flags: a sign, or a space, before a positive number."""
    if positive and "+" in flags:
        return "+" + text
    if positive and " " in flags:
        return " " + text
    return text
