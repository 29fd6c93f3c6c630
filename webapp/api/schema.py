"""How the schema describes the API's error answers, once for every endpoint.

Every error is one JSON object (``webapp.api.errors``): ``detail`` for a
person, ``kind`` for a program, and on a 400 the fields at fault, each with
its messages. Operations list the answers they can give with ``errors(…)``.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

Error = inline_serializer(
    "Error",
    {
        "detail": serializers.CharField(),
        "kind": serializers.CharField(required=False, help_text="not_found, conflict, invalid…"),
    },
)
_FIELD_ERRORS_REF = {"$ref": "#/components/schemas/FieldErrors"}
#: one field's messages, in DRF's nested shape: a list of messages, or per item of a list
#: (``{"0": [...]}``), per key of a mapping, or per field of a nested object, to any depth
FIELD_ERRORS_COMPONENT = {
    "anyOf": [
        {"type": "array", "items": {"anyOf": [{"type": "string"}, _FIELD_ERRORS_REF]}},
        {"type": "object", "additionalProperties": _FIELD_ERRORS_REF},
    ],
    "description": "the messages of one field at fault (nested as the field is)",
}
#: a 400: ``detail`` for the request as a whole, or the messages of each field at fault.
#: ``kind`` is the error's kind, except where a request has a field named "kind" (a job's)
#: that is at fault: then it carries that field's messages like any other field.
FIELD_ERRORS = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "kind": {"anyOf": [{"type": "string"}, _FIELD_ERRORS_REF]},
    },
    "additionalProperties": _FIELD_ERRORS_REF,
}

_ANSWERS = {
    400: OpenApiResponse(FIELD_ERRORS, "invalid: the fields at fault, each with its messages"),
    401: OpenApiResponse(Error, "no credentials, or a bad or expired token"),
    403: OpenApiResponse(Error, "you see the object but your role may not do this"),
    404: OpenApiResponse(Error, "not found, or not yours (the two look alike)"),
    409: OpenApiResponse(Error, "contradicts the object's current state"),
    503: OpenApiResponse(Error, "the object's host is unreachable or did not answer in time"),
}


def add_components(result: dict, generator: object, request: object, public: bool) -> dict:
    """A postprocessing hook: the components the raw schemas above refer to."""
    result.setdefault("components", {}).setdefault("schemas", {})["FieldErrors"] = (
        FIELD_ERRORS_COMPONENT
    )
    return result


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The error answers CODES, to merge into an operation's ``responses``."""
    return {code: _ANSWERS[code] for code in codes}
