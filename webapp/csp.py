"""The Content-Security-Policy of every response: this site's own scripts, styles and sockets only.

The pages carry no inline script or style (job output comes from
``static/wharf/job-output.js``, htmx and Swagger UI from ``static/vendor``), so
the policy can refuse every inline and foreign script: an injected
``<script>`` or ``onerror=`` runs nowhere, and nothing can be sent elsewhere
than this origin and its own websocket.
"""

from __future__ import annotations

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin

_FIXED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",  # Swagger UI's icons are data: URLs
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy(request: HttpRequest) -> str:
    """The policy for REQUEST: fixed directives, plus its own ws:/wss: origin in connect-src.

    'self' covers the websocket in CSP Level 3 browsers only, so the socket's
    origin is named too, built from the Host that ALLOWED_HOSTS accepted.
    """
    connect = "'self'"
    try:
        host = request.get_host()
    except DisallowedHost:
        host = ""
    if host:
        connect += f" {'wss' if request.is_secure() else 'ws'}://{host}"
    directives = {**_FIXED, "connect-src": connect}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    """Set the policy on every response that has none (sync and async, like Django's own)."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(request)
        return response
