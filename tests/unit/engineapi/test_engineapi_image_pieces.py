"""The image and build routes' pure pieces: the JSON progress stream's error placement and
the build context's decompression, without a socket or a store."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma

import pytest

from runtime.engineapi.build import _plain_chunks
from runtime.engineapi.http import HTTPError
from runtime.engineapi.images import json_stream
from runtime.errors import ImageNotFound


def _lines(reply) -> list[dict]:
    return [json.loads(chunk) for chunk in reply.stream]


def test_a_failure_before_the_first_message_is_the_replys_status() -> None:
    def work(emit) -> None:
        raise ImageNotFound("No such image: x")

    with pytest.raises(ImageNotFound):
        json_stream(work)


def test_a_later_failure_ends_the_stream_with_error_detail() -> None:
    def work(emit) -> None:
        emit({"status": "Preparing", "id": "abc"})
        raise HTTPError(400, "the registry said no")

    reply = json_stream(work)
    assert reply.status == 200
    assert _lines(reply) == [
        {"status": "Preparing", "id": "abc"},
        {"errorDetail": {"message": "the registry said no"}, "error": "the registry said no"},
    ]


def test_a_finished_stream_has_no_error() -> None:
    reply = json_stream(lambda emit: [emit({"stream": "a\n"}), emit({"stream": "b\n"})])
    assert _lines(reply) == [{"stream": "a\n"}, {"stream": "b\n"}]


@pytest.mark.parametrize(
    "pack",
    [
        lambda data: data,
        gzip.compress,
        lambda data: gzip.compress(data[:100]) + gzip.compress(data[100:]),  # two members
        lambda data: gzip.compress(data) + bytes(512),  # zero padding after the member
        bz2.compress,
        lzma.compress,
    ],
)
def test_the_context_arrives_as_plain_bytes(pack) -> None:
    data = bytes(range(256)) * 40
    packed = pack(data)
    chunks = [packed[i : i + 3] for i in range(0, len(packed), 3)]  # tiny chunks
    assert b"".join(_plain_chunks(iter(chunks))) == data


@pytest.mark.parametrize("pack", [gzip.compress, bz2.compress, lzma.compress])
def test_a_small_bomb_unpacks_in_bounded_steps(pack) -> None:
    packed = pack(bytes(64 << 20))
    assert len(packed) < 256 << 10
    sizes = [len(c) for c in _plain_chunks(iter([packed]))]
    assert sum(sizes) == 64 << 20 and max(sizes) <= 1 << 20
