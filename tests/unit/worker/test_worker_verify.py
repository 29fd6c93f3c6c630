"""A host runs only messages the site signed for it."""

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from worker.verify import BadMessage, verify, verify_stream

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


def stream_request(key=SITE, **fields):
    body = {
        "v": 1,
        "type": "stream",
        "stream": "s1",
        "host": "h1",
        "kind": "exec",
        "container": "c1",
        "params": {"cols": 80, "rows": 24},
        "expires": 1000,
    } | fields
    data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return {**body, "sig": base64.b64encode(key.sign(data)).decode()}


def test_a_fresh_stream_request_the_site_signed_for_this_host_passes():
    assert verify_stream(stream_request(), PUBLIC, "h1", now=999)["kind"] == "exec"


@pytest.mark.parametrize(
    "message, why",
    [
        (stream_request(key=OTHER), "signature"),
        (stream_request() | {"container": "c2"}, "signature"),
        (stream_request(host="h2"), "for host 'h2'"),
        (stream_request(expires=998), "expired"),
        (stream_request(kind="shell"), "wrong types"),
        (stream_request(params=["sh"]), "wrong types"),
        (stream_request() | {"extra": 1}, "not a signed"),
        (envelope(), "not a signed"),  # a job's signature does not open a stream
        (envelope() | {"type": "stream"}, "not a signed"),
    ],
)
def test_any_other_stream_request_is_refused(message, why):
    with pytest.raises(BadMessage, match=why):
        verify_stream(message, PUBLIC, "h1", now=999)
