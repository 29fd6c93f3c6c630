"""The API's one body parser: JSON, bounded in depth and number length.

DRF's JSONParser lets ``[[[[…`` nested 100,000 deep raise ``RecursionError``
(a 500) and stores ``1e999`` as infinity, which no JSON encoder writes back.
This parser refuses each with a 400 in DRF's error shape before any view sees
the data. (Size: DRF reads JSON bodies through ``request.body``, which Django
bounds by DATA_UPLOAD_MAX_MEMORY_SIZE; ``webapp.api.errors`` answers that 413.)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

#: Deepest nesting of arrays and objects a request body may have.
MAX_JSON_DEPTH = 32
#: Longest integer literal accepted (int64 has 19 digits and a sign).
MAX_INT_DIGITS = 20


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:24]} is out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"integer with {len(text)} digits; at most {MAX_INT_DIGITS} are accepted")
    return int(text)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def json_depth(value: Any, limit: int) -> int:
    """Return how deeply VALUE nests lists and dicts, stopping early once past LIMIT.

    Iterative, so checking the depth cannot itself run out of stack.
    """
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, Mapping):
            item = item.values()
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        todo.extend((child, level + 1) for child in item)
    return deepest


class StrictJSONParser(JSONParser):
    """JSON bodies of at most MAX_JSON_DEPTH levels and finite, bounded numbers."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        raw = stream.read()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        too_deep = f"JSON parse error - request body nests deeper than {MAX_JSON_DEPTH} levels"
        try:
            data = json.loads(
                raw.decode(encoding),
                parse_constant=_refuse_constant,
                parse_float=_finite_float,
                parse_int=_bounded_int,
            )
        except RecursionError as exc:
            raise ParseError(too_deep) from exc
        except ValueError as exc:  # also UnicodeDecodeError
            raise ParseError(f"JSON parse error - {exc}") from exc
        if json_depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            raise ParseError(too_deep)
        return data
