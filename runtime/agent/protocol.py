"""The agent's wire format: one JSON object per line each way, on a unix socket.

Request: ``{"op": NAME, "args": {...}}``. Reply: ``{"ok": true, "result": ...}``
or ``{"ok": false, "error": MESSAGE, "kind": ERROR_CLASS}``, where the class is
one of ``runtime.errors`` so the caller raises what the agent raised.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runtime import errors
from runtime.config import Paths


def socket_path(paths: Paths) -> Path:
    return paths.run / "agent.sock"


def encode(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def error_reply(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, errors.WharfError):
        return {"ok": False, "error": exc.message, "kind": type(exc).__name__}
    return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "kind": "HostError"}


def raise_reply(reply: dict[str, Any]) -> Any:
    """Return a reply's result, or raise the error it carries as the runtime's own class."""
    if reply.get("ok"):
        return reply.get("result")
    cls = getattr(errors, str(reply.get("kind")), None)
    if not (isinstance(cls, type) and issubclass(cls, errors.WharfError)):
        cls = errors.HostError
    raise cls(str(reply.get("error") or "host agent failed"))
