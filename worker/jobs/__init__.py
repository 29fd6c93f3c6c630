"""Job handlers, one module per kind; importing this package registers them all."""

from worker.jobs import hostcheck  # noqa: F401
