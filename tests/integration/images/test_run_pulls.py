"""`run` and `create` pull an image that is not here first, as Docker's (`--pull`)."""

from __future__ import annotations


def _pushed_then_untagged(wharf, registry) -> str:
    """A reference the registry has and this host does not (its layers stay: busybox)."""
    name = f"{registry.host}/pulled/bb:1"
    wharf("tag", "busybox", name)
    wharf("push", "-q", name)
    wharf("rmi", name)
    assert wharf("images", "-q", name).stdout == ""
    return name


def test_run_pulls_a_missing_image_and_says_so_on_stderr(wharf, registry):
    name = _pushed_then_untagged(wharf, registry)
    out = wharf("run", "--rm", name, "echo", "hi")
    assert out.stdout == "hi\n"
    assert out.stderr.startswith(f"Unable to find image '{name}' locally\n")
    assert f"Status: Downloaded newer image for {name}" in out.stderr
    assert wharf("images", "-q", name).stdout.strip() != ""


def test_create_pulls_quietly_with_q_and_never_refuses(wharf, registry):
    name = _pushed_then_untagged(wharf, registry)
    never = wharf("create", "--pull", "never", name, check=False)
    assert never.returncode == 1 and "No such image" in never.stderr
    assert wharf("ps", "-aq").stdout == ""
    made = wharf("create", "-q", name)
    assert made.stderr == "" and len(made.stdout.strip()) == 64


def test_pull_always_asks_the_registry_even_when_the_image_is_here(wharf, registry):
    name = _pushed_then_untagged(wharf, registry)
    wharf("pull", name)
    out = wharf("run", "--rm", "--pull", "always", name, "true")
    assert "Unable to find image" not in out.stderr
    assert f"Status: Image is up to date for {name}" in out.stderr
    registry.stop()
    gone = wharf("run", "--rm", "--pull", "always", name, "true", check=False)
    assert gone.returncode == 125
    line, hint = gone.stderr.strip().splitlines()
    assert line.startswith("wharf: Error response from daemon: Get ")
    assert line.endswith(f"dial tcp {registry.host}: connect: connection refused.")
    assert hint == "See 'wharf run --help'."


def test_a_bad_pull_option_and_an_unreachable_registry(wharf):
    bad = wharf("run", "--pull", "sometimes", "busybox", "true", check=False)
    assert bad.returncode == 125
    assert "invalid pull option: 'sometimes'" in bad.stderr
    out = wharf("pull", "127.0.0.1:1/none/here:1", check=False)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        'Error response from daemon: Get "http://127.0.0.1:1/v2/none/here/manifests/1": '
        "dial tcp 127.0.0.1:1: connect: connection refused"
    ]
