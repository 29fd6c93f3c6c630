"""The one way to send something to browsers: ``publish(group, payload)``.

Publishing is best effort: what is published was stored first, and a viewer
that missed a message (the channel layer's Redis restarting) reads it back by
sequence number. So a failed send is logged, never turned into a failed
request — a host reporting output must not be told to retry what was stored.

The lists' changes (inventory objects, hosts, jobs) go to the groups of the
inventory socket (``/ws/inventory/``, ``webapp.inventory.consumers``) through
``announce``: the admins' group and the group of each team that may see the
object, so a browser is told only of what its user may see.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


def publish(group: str, payload: dict) -> None:
    """Send a JSON payload to a channel-layer group once the current transaction commits."""
    text = json.dumps(payload)  # fail here, in the caller, if it is not JSON

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(group, {"type": "relay", "text": text})
        except Exception:  # noqa: BLE001 - stored already; viewers catch up by sequence
            log.warning("publishing to %s failed; viewers will catch up", group, exc_info=True)

    transaction.on_commit(send)


#: the inventory socket's groups: every change (fleet admins), and one team's changes
ALL_GROUP = "inventory.all"


def team_group(team_id: int) -> str:
    return f"inventory.team.{team_id}"


def announce(kind: str, data: dict, team_ids: Iterable[int], action: str = "changed") -> None:
    """Tell the lists that OBJECT of KIND changed (or was removed): admins and TEAM_IDS' members.

    ``data`` carries ``host`` (the host's name) so a socket narrowed to one
    host relays only that host's changes.
    """
    message = {"type": "inventory", "action": action, "kind": kind, "object": data}
    for group in [ALL_GROUP, *(team_group(pk) for pk in sorted(set(team_ids)))]:
        publish(group, message)
