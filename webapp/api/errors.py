"""The API's exception handler: DRF's, plus a 413 in the API's shape for an oversized body.

Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE with ``RequestDataTooBig``,
which DRF does not know and Django would answer with an HTML page; API
clients get ``{"detail": …}`` like every other error. Likewise a path under
``/api/`` that no route matches (``/api/v1/jobs/0.5/``) is a 404 in that shape.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
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


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 handler: the API's error shape under /api/, the site's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "not found", "kind": "not_found"}, status=404)
    return page_not_found(request, exception)
