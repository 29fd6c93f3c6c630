"""A job's output reaches the site in order and whole, whoever flushes it.

The handler's thread flushes when a batch is full and the flusher thread every
fraction of a second: both at once must still post batches in sequence order,
and a batch the site did not take is sent again, not dropped.
"""

from __future__ import annotations

import threading

import pytest

from worker.runner import JobContext


class RecordingSite:
    """Stands in for the site's host API: keeps every batch it was given."""

    def __init__(self, fail_first: int = 0) -> None:
        self.batches: list[list[int]] = []
        self.fail_left = fail_first
        self._busy = threading.Lock()

    def lines(self, job_id: int, batch: list[dict]) -> dict:
        # two posts on the wire at once would be a broken order
        assert self._busy.acquire(blocking=False), "two batches were sent at the same time"
        try:
            if self.fail_left:
                self.fail_left -= 1
                raise ConnectionError("site away")
            if batch:
                self.batches.append([line["seq"] for line in batch])
            return {"cancel": False}
        finally:
            self._busy.release()


def _all_seqs(site: RecordingSite) -> list[int]:
    return [seq for batch in site.batches for seq in batch]


def test_lines_from_two_threads_arrive_once_each_in_order():
    site = RecordingSite()
    ctx = JobContext(site, 1, {"kind": "test"})

    def write(n: int) -> None:
        for i in range(n):
            ctx.log(f"line {i}")

    writers = [threading.Thread(target=write, args=(3000,)) for _ in range(3)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    ctx.close()
    assert _all_seqs(site) == list(range(1, 9001))


def test_a_batch_the_site_refused_is_sent_again_before_newer_lines():
    site = RecordingSite(fail_first=1)
    ctx = JobContext(site, 1, {"kind": "test", "last_seq": 10})
    ctx._stop.set()  # no flusher: this test decides when to flush
    ctx._flusher.join()
    ctx.log("a\nb")
    with pytest.raises(ConnectionError):
        ctx.flush()
    ctx.log("c")
    ctx.flush()
    assert site.batches == [[11, 12, 13]]
