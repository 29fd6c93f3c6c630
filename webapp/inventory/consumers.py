"""Websocket of the lists' changes: ``/ws/inventory/?host=NAME&team=SLUG`` (both optional).

The one socket the list pages follow: inventory objects (containers, images,
volumes, networks), hosts (state, heartbeat, cordon) and jobs (new, state),
each published by ``webapp.jobs.publish.announce`` to the admins' group and
to the groups of the teams that may see it (a host: the teams it is granted
to, as ``FleetQuerySet.for_user`` decides; a job: its team).

Authenticate, check access, join the groups the user may see, then relay:
fleet admins join the group of every object (unmanaged ones too), others one
group per team they may view (or the one ``team`` named). ``host`` narrows
the relay to one host's objects. The REST lists give the state to start
from; this socket sends each change after it is committed, as
``{"type": "inventory", "action": "changed"|"removed", "kind", "object"}``
(``kind`` one of the inventory kinds, ``host`` or ``job``). A change of the
user's memberships, flags or hosts reaches an open socket too
(``webapp.accounts.access_watch``): it joins and leaves team groups to match.

Close codes as the job socket's: 4401 not signed in, 4404 no such host or
team (or not yours), 4400 a bad parameter (too long, or with a NUL byte). A socket quiet for
``KEEPALIVE_SECONDS`` gets ``{"type": "keepalive"}``.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from webapp.accounts.access_watch import FollowsAccess, fresh_user
from webapp.accounts.models import Team
from webapp.fleet.models import Host
from webapp.jobs.consumers import (
    CLOSE_BAD_REQUEST,
    CLOSE_NOT_FOUND,
    CLOSE_UNAUTHENTICATED,
    KEEPALIVE_SECONDS,
)
from webapp.jobs.publish import ALL_GROUP, team_group
from webapp.nul_bytes import has_nul
from webapp.permissions import VIEW, is_fleet_admin


class InventoryConsumer(FollowsAccess, AsyncWebsocketConsumer):
    groups_joined: list[str] = []
    host: str | None = None
    _keepalive: asyncio.Task | None = None
    last_sent = 0.0

    async def connect(self) -> None:
        self.groups_joined = []
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode(errors="replace"))
        host, team = query.get("host", [""])[0], query.get("team", [""])[0]
        if len(host) > 200 or len(team) > 100 or has_nul(host, team):
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        groups = await self._groups(user, host, team)
        if groups is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.host = host or None
        self.query = (host, team)
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        await self.follow_access(user)
        await self._send(json.dumps({"type": "subscribed", "host": self.host}))
        self._keepalive = asyncio.ensure_future(self._keep_alive())

    async def disconnect(self, code: int) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        await self.unfollow_access()

    async def access_changed(self, event: dict) -> None:
        """The user's access changed (``webapp.accounts.access_watch``): follow the teams
        they may see now; a host or team named in the query and no longer theirs ends it."""
        groups = await self._fresh_groups()
        if groups is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        for group in [g for g in self.groups_joined if g not in groups]:
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in [g for g in groups if g not in self.groups_joined]:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = list(groups)

    @database_sync_to_async
    def _fresh_groups(self) -> list[str] | None:
        user = fresh_user(self.scope)
        return None if user is None else self._groups_now(user, *self.query)

    async def relay(self, event: dict) -> None:
        """A change published by ``webapp.inventory.services``."""
        if self.host is not None:
            message = json.loads(event["text"])
            if message.get("object", {}).get("host") != self.host:
                return
        await self._send(event["text"])

    async def _send(self, text: str) -> None:
        self.last_sent = time.monotonic()
        await self.send(text_data=text)

    async def _keep_alive(self) -> None:
        """A quiet socket gets a keepalive message, as the job socket does (proxies close idle ones)."""
        while True:
            await asyncio.sleep(max(0.0, self.last_sent + KEEPALIVE_SECONDS - time.monotonic()))
            if time.monotonic() - self.last_sent >= KEEPALIVE_SECONDS:
                await self._send(json.dumps({"type": "keepalive"}))

    @database_sync_to_async
    def _groups(self, user: object, host: str, team: str) -> list[str] | None:
        return self._groups_now(user, host, team)

    @staticmethod
    def _groups_now(user: object, host: str, team: str) -> list[str] | None:
        """The groups USER may join for this query; None when the host or team is not theirs."""
        if host and not Host.objects.for_user(user, VIEW).filter(name=host).exists():
            return None
        if team:
            found = Team.objects.for_user(user, VIEW).filter(slug=team).first()
            return None if found is None else [team_group(found.pk)]
        if is_fleet_admin(user):
            return [ALL_GROUP]
        return [
            team_group(pk) for pk in Team.objects.for_user(user, VIEW).values_list("pk", flat=True)
        ]
