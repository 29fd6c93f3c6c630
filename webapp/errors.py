"""The site's own exceptions: services raise these, the API maps them to HTTP once.

Services know situations, not status codes: "not found (or not yours)",
"conflicts with the current state", "invalid, here is the field". The API's
exception handler (``webapp.api.errors``) turns each into 404, 409 or 400 in
the one error shape, and pages show the message.
"""

from __future__ import annotations


class SiteError(Exception):
    """Root of the site's errors; ``str()`` is one line for a person."""

    status = 400
    kind = "error"

    def __init__(self, message: str, field: str | None = None, detail: object = None) -> None:
        super().__init__(message)
        self.field = field
        #: the field's errors in DRF's nested shape (``{"ports": {"0": ["…"]}}``), if any
        self.detail = detail


class NotFound(SiteError):
    """The object does not exist, or the requester may not know it does (never 403)."""

    status = 404
    kind = "not_found"


class Conflict(SiteError):
    """The request contradicts the object's current state (a finished job cancelled)."""

    status = 409
    kind = "conflict"


class Invalid(SiteError):
    """The request is malformed; ``field`` names the input at fault."""

    status = 400
    kind = "invalid"


class Forbidden(SiteError):
    """The requester knows the object but may not do this to it (a viewer starting a job)."""

    status = 403
    kind = "forbidden"


class Unavailable(SiteError):
    """The host that holds the object cannot answer now (unreachable, or silent too long)."""

    status = 503
    kind = "host_unavailable"
