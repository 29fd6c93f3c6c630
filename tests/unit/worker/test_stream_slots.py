"""A host serves at most WHARF_MAX_STREAMS streams at once; past it the site is told why.

Each stream is a thread (a shell, a process too): a viewer opening sockets in a loop
must not be able to make a host start threads without end.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

from worker import streams


def test_a_stream_past_the_limit_is_refused_and_a_freed_slot_serves_again(monkeypatch):
    monkeypatch.setenv("WHARF_MAX_STREAMS", "1")
    monkeypatch.setattr(streams, "verify_stream", lambda envelope, *a: envelope)
    release = threading.Event()
    served: list[tuple[str, str]] = []
    done = threading.Semaphore(0)

    def serve(cfg, fields, refuse=""):
        served.append((fields["stream"], refuse))
        if not refuse and fields["stream"] == "s1":
            release.wait(10)
        done.release()

    monkeypatch.setattr(streams, "serve", serve)
    cfg = SimpleNamespace(public_key=None, host_name="h1")
    listener = streams.StreamListener(cfg=cfg, site=None)
    listener.open(b'{"stream": "s1", "kind": "logs"}')
    listener.open(b'{"stream": "s2", "kind": "logs"}')
    assert done.acquire(timeout=10), "the refusal was never served"
    assert served[-1][0] == "s2" and "serves 1 streams at once" in served[-1][1]
    release.set()
    assert done.acquire(timeout=10)
    listener.open(b'{"stream": "s3", "kind": "logs"}')
    assert done.acquire(timeout=10)
    assert served[-1] == ("s3", "")
