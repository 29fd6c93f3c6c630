"""Job handlers, one module per kind; importing this package registers them all."""

import os

from worker.jobs import containers, hostcheck, images, storage  # noqa: F401

if os.environ.get("WHARF_TEST_JOBS") == "1":
    from worker.jobs import testing  # noqa: F401
