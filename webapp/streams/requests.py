"""Ask a host for a stream: a one-time id kept for the asking consumer, a signed request sent.

The id is random (192 bits) and kept in the shared cache for ``STREAM_WAIT``
seconds with the host it is for and the channel of the consumer waiting for
it; ``claim`` takes it once. The request is signed like a job message but
with other fields (``worker.verify.verify_stream``), so neither can pass for
the other, and it carries an expiry: a host that was away does not serve a
stream its browser gave up on.
"""

from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.core.cache import cache

from webapp.fleet import broker
from webapp.fleet.models import Host
from webapp.jobs.signing import sign_fields

#: seconds a stream waits for its host to dial in (``WHARF_STREAM_WAIT``)
STREAM_WAIT = settings.WHARF_STREAM_WAIT
KINDS = ("logs", "stats", "exec")


def _key(stream_id: str) -> str:
    return f"stream:{stream_id}"


def request_stream(host: Host, engine_id: str, kind: str, params: dict, reply_channel: str) -> str:
    """Keep a stream id for REPLY_CHANNEL and send HOST the signed request; return the id."""
    if kind not in KINDS:
        raise ValueError(f"unknown stream kind {kind!r}")
    stream_id = secrets.token_urlsafe(24)
    cache.set(_key(stream_id), {"host": host.pk, "channel": reply_channel}, STREAM_WAIT)
    envelope = sign_fields(
        {
            "v": 1,
            "type": "stream",
            "stream": stream_id,
            "host": host.name,
            "kind": kind,
            "container": engine_id,
            "params": params,
            "expires": int(time.time()) + STREAM_WAIT,
        }
    )
    broker.send_stream(host.name, envelope)
    return stream_id


def claim(stream_id: str, host: Host) -> str | None:
    """The channel waiting for STREAM_ID if HOST may serve it, once; else None."""
    if not stream_id or len(stream_id) > 64:
        return None
    key = _key(stream_id)
    pending = cache.get(key)
    if not isinstance(pending, dict) or pending.get("host") != host.pk:
        return None
    if not cache.delete(key):  # another connection took it between the two calls
        return None
    return pending["channel"]
