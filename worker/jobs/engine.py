"""The host's engine for one job: a ``Runtime`` on this host's Wharf root.

Every runtime job opens its own (the root comes from the worker's
environment, ``WHARF_ROOT``/``WHARF_RUN``, as for the ``wharf`` CLI) and
closes it at the end, so no connection outlives a job in a pool process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from runtime import Runtime

#: the label that ties what a job made to the job (its idempotency key)
JOB_LABEL = "wharf.job"


@contextmanager
def engine() -> Iterator[Runtime]:
    with Runtime() as rt:
        yield rt


def made_by(rt: Runtime, job_key: str) -> list:
    """Containers this job made in an earlier run (a redelivered create finds them here)."""
    _, _, value = job_key.partition("=")
    return [c for c in rt.containers.list(all=True) if c.spec.labels.get(JOB_LABEL) == value]
