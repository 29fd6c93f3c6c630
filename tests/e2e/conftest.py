import subprocess
import sys

import pytest
from e2e_stack import REPO, release_root, start_stack
from webdriver import Browser

SHOTS = REPO / "var" / "e2e-screenshots"


@pytest.fixture(scope="session")
def stack():
    s = start_stack()
    yield s
    s.stop()


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.quit()


@pytest.fixture
def shots(browser, request):
    """Where this test's screenshots go (var/e2e-screenshots); one more if the test fails."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield SHOTS
    if getattr(request.node, "rep_call", None) is None or request.node.rep_call.failed:
        browser.screenshot(SHOTS / f"{request.node.name}-failed.png")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each test's outcome on it, for the fixtures that act on a failure."""
    outcome = yield
    if call.when == "call":
        item.rep_call = outcome.get_result()


@pytest.fixture(scope="module")
def host_rt(host_env):
    """The engine of the stack's host, on that host's own root (busybox in its store)."""
    from runtime import Runtime

    with Runtime(host_env["WHARF_ROOT"], host_env["WHARF_RUN"]) as rt:
        yield rt


@pytest.fixture(scope="module")
def host_env(stack):
    """The stack's own host's environment (its Wharf root), with busybox:latest in that root;
    what a test module made there is taken off the machine after it."""
    env = stack.hosts[stack.host_name]
    subprocess.run(
        [sys.executable, "-m", "runtime.images.starter"], cwd=REPO, env=env, check=True, timeout=120
    )
    yield env
    release_root(env["WHARF_ROOT"], env["WHARF_RUN"])
