"""Who is calling the host API: a host, by its own credential (``Authorization: Host ID.SECRET``)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from webapp.fleet.credentials import authenticate
from webapp.fleet.models import Host


class HostPrincipal:
    """Stands in for ``request.user`` on host calls: authenticated as no person."""

    is_authenticated = True
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, host: Host) -> None:
        self.host = host

    def __str__(self) -> str:
        return f"host {self.host.name}"


class HostCredentialAuthentication(authentication.BaseAuthentication):
    keyword = "Host"

    def authenticate(self, request: Request) -> tuple[HostPrincipal, Host] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace")
        scheme, _, credential = header.partition(" ")
        if scheme != self.keyword:
            return None
        host = authenticate(credential.strip())
        if host is None:
            raise exceptions.AuthenticationFailed("unknown or revoked host credential")
        return HostPrincipal(host), host

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class IsHost(permissions.BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        return isinstance(request.auth, Host)


class HostCredentialScheme(OpenApiAuthenticationExtension):
    """How the schema describes a host's credential header."""

    target_class = HostCredentialAuthentication
    name = "hostAuth"

    def get_security_definition(self, auto_schema: object) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Host ID.SECRET`, issued to a host at enrolment",
        }
