"""WHARF_AUTH_FILE=none turns stored logins off: what a host's worker runs with.

Every team's jobs run in that worker; none may act as whoever ran ``wharf login``
on the host. Its registry credentials come only with a job.
"""

from __future__ import annotations

import pytest

from runtime.config import Paths
from runtime.errors import InvalidArgument
from runtime.images.auth import CredentialStore


def test_no_stored_logins_means_none_found_and_none_written(tmp_path, monkeypatch):
    paths = Paths(root=tmp_path, run=tmp_path / "run")
    monkeypatch.delenv("WHARF_AUTH_FILE", raising=False)
    CredentialStore(paths).set("registry.example:5000", "admin", "s3cret")
    assert CredentialStore(paths).get("registry.example:5000") == ("admin", "s3cret")

    monkeypatch.setenv("WHARF_AUTH_FILE", "none")
    assert CredentialStore(paths).get("registry.example:5000") is None
    with pytest.raises(InvalidArgument, match="stored logins are off"):
        CredentialStore(paths).set("registry.example:5000", "admin", "s3cret")
