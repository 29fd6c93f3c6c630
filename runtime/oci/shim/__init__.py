"""Build and find the per-container monitor (``wharf-shim``, written in C).

The binary is compiled from ``wharf-shim.c`` on first use with the host's C
compiler and cached next to the source under a name carrying the source's
hash, so an edited shim is rebuilt and a running old one stays intact.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from runtime.errors import HostError

SOURCE = Path(__file__).with_name("wharf-shim.c")
BUILD_DIR = Path(__file__).with_name("build")


def shim_binary() -> Path:
    """Return the compiled shim, compiling it first if this source was never built."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    binary = BUILD_DIR / f"wharf-shim-{digest}"
    if binary.exists():
        return binary
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise HostError("building wharf-shim needs a C compiler: apt-get install build-essential")
    BUILD_DIR.mkdir(exist_ok=True)
    tmp = binary.with_name(f".{binary.name}.{os.getpid()}")
    proc = subprocess.run(
        [cc, "-O2", "-Wall", "-o", str(tmp), str(SOURCE)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise HostError(f"compiling {SOURCE}: {proc.stderr.strip().splitlines()[-1:]}")
    tmp.replace(binary)
    return binary
