"""schemathesis over the whole published OpenAPI schema, against the real stack, with a token.

Every operation (the REST API and the host API, which answers a person's token with its
documented 401) gets generated requests, valid and not; no answer may be a server error,
and every answer must be one the schema lists, in its content type and shape. The stack
is this module's own: the fuzzer's accepted jobs (prunes, removes, creates of random
names) run on a host of their own, whose root is taken off the machine afterwards.

Bounded by ``--max-examples`` (about a minute here); the seed is fixed so a run is
repeatable, and WHARF_FUZZ_SEED picks another (the report prints it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_stack import start_stack

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


@pytest.fixture(scope="module")
def own_stack():
    s = start_stack()
    yield s
    s.stop()


def test_no_server_error_and_no_answer_outside_the_schema(own_stack):
    tool = Path(sys.executable).parent / "schemathesis"
    assert tool.exists(), "schemathesis is not installed; run scripts/setup.sh"
    r = subprocess.run(
        [
            str(tool),
            "run",
            f"{own_stack.web_url}/api/schema/?format=json",
            "--header",
            f"Authorization: Token {own_stack.token}",
            "--checks",
            CHECKS,
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            os.environ.get("WHARF_FUZZ_EXAMPLES", "20"),
            "--seed",
            os.environ.get("WHARF_FUZZ_SEED", "1504"),
            "--workers",  # one: Python 3.11's ast.parse (hypothesis's lambda names) is not
            "1",  # thread-safe, and two threads now and then failed with a SystemError
            "--generation-database",
            "none",
            "--request-timeout",
            "30",
            "--no-color",
        ],
        cwd=own_stack.base,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, (
        f"schemathesis found problems:\n{r.stdout[-12000:]}\n{r.stderr[-2000:]}\n"
        f"server log: {own_stack.log('web')[-3000:]}"
    )
