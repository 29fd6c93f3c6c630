"""Typed readers of query parameters: a bad value is a 400 naming the parameter, never a 500.

``int()`` alone takes too much (``' 7'``, ``'1_0'``, non-ASCII digits) and fails
in the wrong way on the rest (``'1e5'`` and a 5,000-digit number raise
``ValueError`` deep in a view, a 20-digit one overflows the database), so every
view that reads an integer from a client goes through here.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

#: The largest value a PositiveIntegerField holds on every database Django supports.
INT32_MAX = 2**31 - 1
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,10}")


class BadParameter(ValueError):
    """A client-sent value that is not what its parameter takes; ``str()`` is one line."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def parse_int(raw: str, name: str, *, minimum: int = 0, maximum: int = INT32_MAX) -> int:
    """Return RAW as an int in [MINIMUM, MAXIMUM], or raise ``BadParameter`` saying what and where.

    For callers outside DRF (the websocket consumer) that answer errors their own way.
    """
    if _WHOLE_NUMBER.fullmatch(raw):
        value = int(raw)
        if minimum <= value <= maximum:
            return value
    shown = repr(raw) if len(raw) <= 24 else f"{raw[:20]!r}... ({len(raw)} characters)"
    raise BadParameter(
        name,
        f"query parameter {name!r} must be a whole number from {minimum} to {maximum}, not {shown}",
    )


def query_int(
    request: Request, name: str, default: int, *, minimum: int = 0, maximum: int = INT32_MAX
) -> int:
    """Read ``?NAME=`` as an int (DEFAULT when absent or empty); a bad value is a 400 field error."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse_int(raw, name, minimum=minimum, maximum=maximum)
    except BadParameter as exc:
        raise ValidationError({name: [str(exc)]}) from exc


def query_bool(request: Request, name: str) -> bool:
    """Read ``?NAME=`` as a flag: ``1``/``true`` or ``0``/``false`` (absent: false)."""
    raw = request.query_params.get(name, "")
    if raw.lower() in ("", "0", "false"):
        return False
    if raw.lower() in ("1", "true"):
        return True
    raise ValidationError({name: [f"query parameter {name!r} must be 1 or 0, not {raw[:20]!r}"]})


def read_query_with(serializer_class: type, params: Any) -> dict:
    """Check a query dict with SERIALIZER_CLASS (its fields are the parameters); return the
    values, or raise ValidationError (a 400) naming the bad ones. Empty values are absent."""
    query = serializer_class(
        data={name: params.get(name) for name in serializer_class().fields if params.get(name)}
    )
    if not query.is_valid():
        raise ValidationError(query.errors)
    return query.validated_data
