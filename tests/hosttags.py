"""One host tag per live test root, claimed on the machine.

A root's bridges, veths and nftables table are named by four hex digits of a hash
of its path (``runtime.network.manager.host_tag``). Tests make hundreds of roots
while others live beside them (three test processes, the e2e stack's hosts), and a
new root that drew a live one's tag repaired away the other's links and shared its
table. A root is used only once its tag is claimed here: a file made with O_EXCL
that names the claiming process, taken over when that process is gone.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from runtime.network.manager import host_tag

#: a claim is the file CLAIMS/wharf-test-tag-<tag> (no directory: nothing stays behind)
CLAIMS = Path("/var/tmp")


def claim_tag(root: Path) -> bool:
    """Claim ROOT's tag for this process; False when a live root holds it (take another
    path). Release it with ``release_tag`` once the root is off the machine."""
    return _claim(host_tag(root))


def release_tag(root: Path) -> None:
    claim = _claim_file(host_tag(root))
    with contextlib.suppress(FileNotFoundError, ValueError):
        if int(claim.read_text()) == os.getpid():
            claim.unlink()


def _claim_file(tag: str) -> Path:
    return CLAIMS / f"wharf-test-tag-{tag}"


def _claim(tag: str) -> bool:
    claim = _claim_file(tag)
    for _ in range(2):
        try:
            fd = os.open(claim, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            if _holder_alive(claim):
                return False
            with contextlib.suppress(FileNotFoundError):
                claim.unlink()  # its process is gone: a test killed before its teardown
            continue
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        return True
    return False


def _holder_alive(claim: Path) -> bool:
    try:
        pid = int(claim.read_text())
    except FileNotFoundError:
        return False
    except ValueError:
        return True  # being written this instant
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
