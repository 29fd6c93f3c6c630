"""A host runs only messages the site signed for it."""

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from worker.verify import BadMessage, verify

SITE = Ed25519PrivateKey.generate()
OTHER = Ed25519PrivateKey.generate()
PUBLIC = (
    SITE.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def envelope(key=SITE, **fields):
    body = {"v": 1, "job": 7, "host": "h1", "message": "m1"} | fields
    data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return {**body, "sig": base64.b64encode(key.sign(data)).decode()}


def test_a_message_the_site_signed_for_this_host_passes():
    assert verify(envelope(), PUBLIC, "h1")["job"] == 7


@pytest.mark.parametrize(
    "message, why",
    [
        (envelope(key=OTHER), "signature"),
        (envelope() | {"job": 8}, "signature"),
        (envelope(host="h2"), "for host 'h2'"),
        ({"v": 1, "job": 7, "host": "h1", "message": "m1"}, "not a signed"),
        (envelope() | {"extra": 1}, "not a signed"),
        (envelope() | {"sig": "!!!"}, "signature"),
        (7, "not a signed"),
        ([envelope()], "not a signed"),
    ],
)
def test_anything_else_is_refused(message, why):
    with pytest.raises(BadMessage, match=why):
        verify(message, PUBLIC, "h1")
