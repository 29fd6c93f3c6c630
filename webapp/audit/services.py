"""Write the audit log: one call, ``record(action, ...)``, made where a change happens.

Who acted and from where come from the request being served, which
``AuditMiddleware`` keeps in a context variable for the request's lifetime
(under DRF the authenticated user is set on that same request); a call from a
script (``manage.py``) has neither, and says so by an empty actor. Callers
may name the actor outright (a service given the user).

What a caller passes as ``before`` and ``after`` must be JSON: plain values
describing the object (never a secret: a token's text, a registry password).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from contextvars import ContextVar

from django.db import models
from django.http import HttpRequest, HttpResponse

from webapp.audit.models import AuditEntry

_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


class AuditMiddleware:
    """Keep the request being served where ``record`` finds its user and address."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def _address(request: HttpRequest | None) -> str | None:
    """The client's address as the server saw it (behind a proxy: set the server to trust it)."""
    raw = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


#: parameter names whose values an entry never shows
SECRET_WORDS = ("password", "secret", "token", "auth")
#: parameters of KEY=VALUE entries whose names an entry shows, never their values
#: (a build argument carries a token as often as an environment variable does)
NAMES_ONLY = ("env", "build_args")


def redact(params: object) -> object:
    """PARAMS with secrets hidden: environment values and anything named like a secret."""
    if isinstance(params, dict):
        return {
            k: "…"
            if any(w in str(k).lower() for w in SECRET_WORDS)
            else _env(v)
            if k in NAMES_ONLY
            else redact(v)
            for k, v in params.items()
        }
    if isinstance(params, list):
        return [redact(v) for v in params]
    return params


def _env(value: object) -> object:
    """``KEY=VALUE`` entries (or a mapping) with their values replaced: names only."""
    if isinstance(value, dict):
        return {k: "…" for k in value}
    if isinstance(value, list):
        return [f"{str(v).partition('=')[0]}=…" for v in value]
    return "…"


def record(
    action: str,
    obj: models.Model | None = None,
    *,
    team: object = None,
    actor: object = None,
    before: dict | None = None,
    after: dict | None = None,
    object_type: str = "",
    object_id: object = "",
    object_repr: str = "",
) -> AuditEntry:
    """Log ACTION on OBJ (or on the object named by type, id and repr) for TEAM.

    ACTION reads ``<what>.<verb>``: ``job.create``, ``membership.update``,
    ``host.cordon``, ``registry.delete``. The actor is ACTOR, else the user of
    the request being served; TEAM defaults to OBJ's ``team`` if it has one.
    """
    request = _request.get()
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    if not getattr(actor, "is_authenticated", False):
        actor = None
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
        if team is None and hasattr(obj, "team_id"):
            team = obj.team
    return AuditEntry.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        action=action,
        object_type=object_type,
        object_id="" if object_id is None else str(object_id)[:128],
        object_repr=object_repr[:300],
        team=team,
        team_name=str(team)[:100] if team is not None else "",
        address=_address(request),
        before=before,
        after=after,
    )


def check_may_read(user: object) -> None:
    """Fleet admins and team admins read the audit log (each their part); others may not."""
    from webapp.accounts.models import Team
    from webapp.errors import Forbidden
    from webapp.permissions import MANAGE

    if not Team.objects.for_user(user, MANAGE).exists() and not getattr(user, "is_staff", False):
        raise Forbidden("the audit log is for fleet admins and for team admins")
