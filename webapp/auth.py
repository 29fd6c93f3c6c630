"""Websocket authentication: the session cookie (browsers) or an API token header (automation)."""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser


@database_sync_to_async
def _user_for_token(text: str) -> object:
    from webapp.accounts.tokens import ApiToken

    return ApiToken.user_for(text) or AnonymousUser()


class TokenHeaderAuthMiddleware:
    """Use ``Authorization: Token KEY`` when the handshake carries it, else keep the session user.

    Tokens travel only in a header, never in the URL, so they stay out of access logs.
    """

    def __init__(self, inner: object) -> None:
        self.inner = inner

    async def __call__(self, scope: dict, receive: object, send: object) -> object:
        headers = dict(scope.get("headers", []))
        auth = headers.get(b"authorization", b"").decode()
        if auth.startswith("Token "):
            text = auth[6:].strip()
            # kept so an open socket can check again that its token still holds
            scope = dict(scope, user=await _user_for_token(text), auth_token=text)
        return await self.inner(scope, receive, send)


def WebsocketAuthStack(inner: object) -> object:  # noqa: N802 - reads like Channels' stacks
    return AuthMiddlewareStack(TokenHeaderAuthMiddleware(inner))
