"""The API's exception handler: DRF's, plus a 413 in the API's shape for an oversized body.

Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE with ``RequestDataTooBig``,
which DRF does not know and Django would answer with an HTML page; API
clients get ``{"detail": …}`` like every other error.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler


class RequestBodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "request body is too large"
    default_code = "request_too_large"


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the site's own errors and Django's body-size refusal.

    ``webapp.errors.SiteError`` is mapped here, once: its status (404, 409,
    400, 403), ``{"detail": …}``, and a field error when it names the field.
    """
    from webapp.errors import SiteError

    if isinstance(exc, SiteError):
        body: dict[str, Any] = {"detail": str(exc), "kind": exc.kind}
        if exc.field:
            body[exc.field] = exc.detail if exc.detail is not None else [str(exc)]
        return Response(body, status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = RequestBodyTooLarge(f"request body is larger than {limit} bytes")
    return exception_handler(exc, context)
