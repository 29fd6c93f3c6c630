"""Check a job message's signature before anything is done with it.

Only the site holds the signing key; the host holds its public half (from
enrolment). A message whose signature fails, or that names another host, is
refused and reported: nobody else can make this root process run a job.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class BadMessage(Exception):
    """A message that is not the site's, or not for this host."""


@lru_cache(maxsize=4)
def _key(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the site's public key is not an Ed25519 key")
    return key


def verify(envelope: Any, public_key_pem: str, host_name: str) -> dict:
    """Return the envelope's fields if the site signed it for this host; else raise BadMessage."""
    if not isinstance(envelope, dict):
        raise BadMessage("the message is not a signed job envelope")
    fields = {k: envelope.get(k) for k in ("v", "job", "host", "message")}
    sig = envelope.get("sig")
    if fields["v"] != 1 or not isinstance(sig, str) or set(envelope) != {*fields, "sig"}:
        raise BadMessage("the message is not a signed job envelope")
    _check_signature(fields, sig, public_key_pem)
    if fields["host"] != host_name:
        raise BadMessage(f"the message is for host {fields['host']!r}, not this one")
    if not isinstance(fields["job"], int) or not isinstance(fields["message"], str):
        raise BadMessage("the message's fields have the wrong types")
    return fields


def _check_signature(fields: dict, sig: str, public_key_pem: str) -> None:
    data = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    try:
        _key(public_key_pem).verify(base64.b64decode(sig, validate=True), data)
    except (InvalidSignature, ValueError):
        raise BadMessage("the message's signature is not the site's") from None


#: the fields of a stream request (``webapp.streams.requests``); a job envelope has others,
#: so neither kind of signed message can pass for the other
STREAM_FIELDS = ("v", "type", "stream", "host", "kind", "container", "params", "expires")
STREAM_KINDS = frozenset({"logs", "stats", "exec"})


def verify_stream(envelope: Any, public_key_pem: str, host_name: str, now: float) -> dict:
    """Return a stream request's fields if the site signed it for this host and it is still
    fresh (a request nobody served in time is the browser's, long gone); else BadMessage."""
    if not isinstance(envelope, dict) or envelope.get("type") != "stream":
        raise BadMessage("the message is not a signed stream request")
    fields = {k: envelope.get(k) for k in STREAM_FIELDS}
    sig = envelope.get("sig")
    if fields["v"] != 1 or not isinstance(sig, str) or set(envelope) != {*fields, "sig"}:
        raise BadMessage("the message is not a signed stream request")
    _check_signature(fields, sig, public_key_pem)
    if fields["host"] != host_name:
        raise BadMessage(f"the stream request is for host {fields['host']!r}, not this one")
    if fields["kind"] not in STREAM_KINDS or not isinstance(fields["params"], dict):
        raise BadMessage("the stream request's fields have the wrong types")
    if not isinstance(fields["stream"], str) or not isinstance(fields["container"], str):
        raise BadMessage("the stream request's fields have the wrong types")
    if not isinstance(fields["expires"], int | float) or fields["expires"] < now:
        raise BadMessage("the stream request has expired")
    return fields
