"""``python -m runtime.agent``: run the host agent of $WHARF_ROOT in the foreground."""

from __future__ import annotations

import logging

from runtime import Runtime
from runtime.agent.server import serve

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s agent %(levelname)s %(message)s")
    with Runtime() as rt:
        serve(rt)
