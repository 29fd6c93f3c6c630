"""The one way to send something to browsers: ``publish(group, payload)``."""

from __future__ import annotations

import json

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def publish(group: str, payload: dict) -> None:
    """Send a JSON payload to a channel-layer group once the current transaction commits."""
    text = json.dumps(payload)  # fail here, in the caller, if it is not JSON

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, {"type": "relay", "text": text})

    transaction.on_commit(send)
