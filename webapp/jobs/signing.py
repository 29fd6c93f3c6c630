"""Job messages signed by the site, so a host runs only what the site sent it.

The site keeps an Ed25519 private key (``WHARF_SIGNING_KEY_FILE``, made on
first use, mode 0600); hosts get only the public key at enrolment. A message
is an envelope naming the job, its host and its message id; the worker checks
the signature and the host before it asks the site to claim the job, and the
site hands the job out only for the message id it last sent. A message
pushed into a host's queue by anyone else, or replayed for another host, is
refused and recorded.
"""

from __future__ import annotations

import base64
import json
import os
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

ENVELOPE_VERSION = 1


def canonical(fields: dict) -> bytes:
    """The bytes that are signed: JSON with sorted keys and no spaces (hosts do the same)."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


@lru_cache(maxsize=1)
def _private_key() -> Ed25519PrivateKey:
    path = Path(settings.WHARF_SIGNING_KEY_FILE)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def public_key_pem() -> str:
    """The key hosts verify messages with (handed out at enrolment)."""
    return (
        _private_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def sign_fields(fields: dict) -> dict:
    """FIELDS with the site's signature of their canonical bytes under ``sig``."""
    signature = _private_key().sign(canonical(fields))
    return {**fields, "sig": base64.b64encode(signature).decode()}


def sign(job_id: int, host_name: str, message_id: str) -> dict:
    """The signed envelope of one job message."""
    return sign_fields(
        {"v": ENVELOPE_VERSION, "job": job_id, "host": host_name, "message": message_id}
    )
