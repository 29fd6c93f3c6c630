"""Manifests and indexes are parsed strictly; the platform is chosen like Docker."""

from __future__ import annotations

import json

import pytest

from runtime.errors import InvalidArgument
from runtime.images import manifest as mf

D = "sha256:" + "b" * 64


def _manifest(**over) -> bytes:
    doc = {
        "schemaVersion": 2,
        "mediaType": mf.OCI_MANIFEST,
        "config": {"mediaType": mf.OCI_CONFIG, "digest": D, "size": 10},
        "layers": [{"mediaType": mf.OCI_LAYER_ZSTD, "digest": D, "size": 5}],
    }
    doc.update(over)
    return json.dumps(doc).encode()


def test_it_parses_an_oci_manifest():
    m = mf.parse(_manifest())
    assert isinstance(m, mf.Manifest) and m.layers[0].media_type == mf.OCI_LAYER_ZSTD


@pytest.mark.parametrize(
    "doc,match",
    [
        (
            {
                "config": {
                    "mediaType": "application/vnd.cncf.helm.config.v1+json",
                    "digest": D,
                    "size": 1,
                }
            },
            "not a container image",
        ),
        ({"layers": [{"mediaType": "text/plain", "digest": D, "size": 1}]}, "unsupported layer"),
        ({"layers": [{"mediaType": mf.OCI_LAYER, "digest": "md5:abc", "size": 1}]}, "digest"),
        ({"layers": [{"mediaType": mf.OCI_LAYER, "digest": D, "size": -1}]}, "bad size"),
        ({"mediaType": "application/x-unknown"}, "unsupported manifest media type"),
    ],
)
def test_it_refuses_bad_manifests(doc, match):
    with pytest.raises(InvalidArgument, match=match):
        mf.parse(_manifest(**doc))


def test_it_picks_the_platform_from_an_index():
    entries = [
        {"mediaType": mf.OCI_MANIFEST, "digest": "sha256:" + c * 64, "size": 1, "platform": p}
        for c, p in (
            ("1", {"os": "linux", "architecture": "arm", "variant": "v6"}),
            ("2", {"os": "linux", "architecture": "arm", "variant": "v7"}),
            ("3", {"os": "linux", "architecture": "amd64"}),
        )
    ]
    index = mf.parse(json.dumps({"schemaVersion": 2, "manifests": entries}).encode())
    assert isinstance(index, mf.Index)
    assert mf.choose_platform(index, "linux", "amd64").digest == "sha256:" + "3" * 64
    assert mf.choose_platform(index, "linux", "arm", "v7").digest == "sha256:" + "2" * 64
    with pytest.raises(InvalidArgument, match="linux/arm/v6, linux/arm/v7, linux/amd64|it has"):
        mf.choose_platform(index, "windows", "amd64")
    assert mf.parse_platform("linux/arm64") == ("linux", "arm64", "")
    with pytest.raises(InvalidArgument):
        mf.parse_platform("linux")
