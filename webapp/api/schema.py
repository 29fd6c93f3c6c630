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
#: a 400: ``detail`` for the request as a whole, or one list of messages per field at fault
FIELD_ERRORS = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "kind": {"type": "string"}},
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}

_ANSWERS = {
    400: OpenApiResponse(FIELD_ERRORS, "invalid: the fields at fault, each with its messages"),
    401: OpenApiResponse(Error, "no credentials, or a bad or expired token"),
    403: OpenApiResponse(Error, "you see the object but your role may not do this"),
    404: OpenApiResponse(Error, "not found, or not yours (the two look alike)"),
    409: OpenApiResponse(Error, "contradicts the object's current state"),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The error answers CODES, to merge into an operation's ``responses``."""
    return {code: _ANSWERS[code] for code in codes}
