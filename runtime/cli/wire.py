"""The fork server's wire format, shared by the client and the server.

Plain bytes, so the client (every ``wharf`` call) needs no ``json`` import.
Request: a 4-byte big-endian length, then NUL-separated fields: ``wharf-1``,
cwd, umask (octal), the client's ``runtime`` package directory, argc, the
arguments, then the environment as ``KEY=VALUE`` (none of these can hold a NUL).
The client's stdin, stdout and stderr ride along as SCM_RIGHTS. Replies are
ASCII lines: ``pid N``, then ``exit N``; or ``stale`` (run it yourself).
"""

from __future__ import annotations

import os
import struct

MAGIC = b"wharf-1"
HEADER = struct.Struct("!I")
MAX_REQUEST = 1 << 20


def encode_request(
    argv: list[str], cwd: str, umask: int, package: str, env: dict[str, str]
) -> bytes:
    fields = [MAGIC, os.fsencode(cwd), b"%o" % umask, os.fsencode(package), b"%d" % len(argv)]
    fields += [os.fsencode(a) for a in argv]
    fields += [os.fsencode(k) + b"=" + os.fsencode(v) for k, v in env.items()]
    payload = b"\0".join(fields)
    return HEADER.pack(len(payload)) + payload


def decode_request(payload: bytes) -> dict:
    """The request's parts; ValueError if it is not one."""
    fields = [os.fsdecode(f) for f in payload.split(b"\0")]
    if len(fields) < 5 or fields[0] != MAGIC.decode():
        raise ValueError("not a wharf-1 request")
    argc = int(fields[4])
    argv, env_items = fields[5 : 5 + argc], fields[5 + argc :]
    if len(argv) != argc:
        raise ValueError("truncated request")
    env = dict(item.split("=", 1) for item in env_items if "=" in item)
    return {
        "cwd": fields[1],
        "umask": int(fields[2], 8),
        "package": fields[3],
        "argv": argv,
        "env": env,
    }
