"""Docker's ways of writing times and durations on the command line, parsed in one place.

``--health-interval 500ms``, ``events --since 10m``, ``--since 2024-05-01T10:00:00Z``
and ``--until 1714557600.5`` are all Go durations, RFC 3339 times or Unix
timestamps; every verb that takes one parses it here, so they agree.
"""

from __future__ import annotations

import calendar
import re
import time

from runtime.errors import InvalidArgument

_DURATION_UNITS = {
    "ns": 1,
    "us": 10**3,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}
_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?"
    r"(Z|[+-]\d\d:\d\d)?"
)


def parse_duration(text: str) -> int:
    """Parse a Go duration (``30s``, ``1m30s``, ``500ms``) into nanoseconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise InvalidArgument(f"invalid duration {text!r}: expected e.g. 30s, 1m30s or 500ms")
    return int(sum(float(n) * _DURATION_UNITS[u] for n, u in parts))


def rfc3339_ns(text: str) -> int:
    """Parse an RFC 3339 time (as Wharf records them: UTC, nanoseconds) into Unix nanoseconds."""
    m = _RFC3339.fullmatch(text.strip())
    if not m:
        raise InvalidArgument(
            f"invalid time {text!r}: expected RFC 3339, e.g. 2024-05-01T10:00:00Z"
        )
    year, month, day, hour, minute, second, frac, zone = m.groups()
    secs = calendar.timegm(
        (int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    )
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        secs -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return secs * 10**9 + int((frac or "0").ljust(9, "0"))


def parse_point_in_time(text: str, now_ns: int | None = None) -> int:
    """Parse ``--since``/``--until``: a Unix timestamp, an RFC 3339 time or a duration ago."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d{1,9})?", text):
        whole, _, frac = text.partition(".")
        return int(whole) * 10**9 + int(frac.ljust(9, "0") or 0)
    if re.fullmatch(r"(\d+(\.\d+)?(ns|us|ms|s|m|h))+", text):
        return now_ns - parse_duration(text)
    return rfc3339_ns(text)


def ns_to_rfc3339(ns: int) -> str:
    """Format Unix nanoseconds as Docker prints times: UTC, nine fraction digits."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + f".{ns % 10**9:09d}Z"


def go_time(text: str) -> str:
    """Write a recorded RFC 3339 time as Go's RFC3339Nano does: trailing zeros of the
    fraction trimmed, and no fraction at all for a whole second (Docker's JSON times).

    Records keep nine digits (they sort as text); only what is shown is trimmed.
    """
    head, dot, rest = text.partition(".")
    if not dot:
        return text
    digits = rest.rstrip("Z")
    zone = rest[len(digits) :]
    digits = digits.rstrip("0")
    return f"{head}.{digits}{zone}" if digits else f"{head}{zone}"
