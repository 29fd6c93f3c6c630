"""Each verb's error lines are Docker 20.10 client's, word for word.

Docker's client prints its daemon's refusals as ``Error response from daemon: …``;
inspect, logs, rm, cp, rmi, ``network rm`` and ``volume rm`` word a missing object
themselves (``Error: No such container: x``); ``run`` puts ``docker: `` before the
error, ends it with a full stop, and adds ``See 'docker run --help'.`` when the
container was not made (``create`` prints its daemon's refusals as they are).
The expected texts below are Docker's with ``wharf`` for ``docker``.
"""

from __future__ import annotations


def _err(out) -> str:
    return out.stderr


def test_a_missing_container_per_verb(wharf, busybox_image):
    said_by_daemon = "Error response from daemon: No such container: ghost\n"
    for verb in (["stop"], ["start"], ["kill"], ["restart"], ["pause"], ["wait"], ["top"],
                 ["port"], ["exec"], ["attach"], ["diff"], ["export"], ["rename"]):  # fmt: skip
        args = [*verb, "ghost"]
        if verb == ["exec"]:
            args.append("true")
        if verb == ["rename"]:
            args.append("other")
        out = wharf(*args, check=False)
        assert (out.returncode, out.stderr) == (1, said_by_daemon), args
    said_by_client = "Error: No such container: ghost\n"
    for args in (["inspect", "--type", "container", "ghost"], ["container", "inspect", "ghost"],
                 ["logs", "ghost"], ["rm", "ghost"]):  # fmt: skip
        out = wharf(*args, check=False)
        assert (out.returncode, out.stderr) == (1, said_by_client), args
    out = wharf("inspect", "ghost", check=False)
    assert (out.returncode, out.stderr) == (1, "Error: No such object: ghost\n")
    out = wharf("cp", "ghost:/etc/hostname", "/tmp/x", check=False)
    assert (out.returncode, out.stderr) == (
        1,
        "Error: No such container:path: ghost:/etc/hostname\n",
    )
    out = wharf("stop", "ghost", "ghost2", check=False)
    assert out.stderr == (
        "Error response from daemon: No such container: ghost\n"
        "Error response from daemon: No such container: ghost2\n"
    )


def test_a_missing_file_in_cp_names_the_container_path(wharf, busybox_image):
    wharf("create", "--name", "box", "--network", "none", "busybox", "true")
    out = wharf("cp", "box:/nope", "/tmp/x", check=False)
    assert (out.returncode, out.stderr) == (1, "Error: No such container:path: box:/nope\n")


def test_missing_images_networks_volumes(wharf, busybox_image):
    out = wharf("rmi", "nosuch:1", check=False)
    assert (out.returncode, out.stderr) == (1, "Error: No such image: nosuch:1\n")
    out = wharf("image", "inspect", "nosuch:1", check=False)
    assert (out.returncode, out.stderr) == (1, "Error: No such image: nosuch:1\n")
    for args in (["network", "rm", "nonet"], ["network", "inspect", "nonet"]):
        out = wharf(*args, check=False)
        assert (out.returncode, out.stderr) == (1, "Error: No such network: nonet\n"), args
    for args in (["volume", "rm", "novol"], ["volume", "inspect", "novol"]):
        out = wharf(*args, check=False)
        assert (out.returncode, out.stderr) == (1, "Error: No such volume: novol\n"), args
    out = wharf("network", "connect", "nonet", "ghost", check=False)
    assert out.stderr.startswith("Error response from daemon: ")


def test_run_says_its_name_and_the_hint(wharf, busybox_image):
    wharf("create", "--name", "taken", "--network", "none", "busybox", "true")
    cid = wharf("inspect", "-f", "{{.Id}}", "taken").stdout.strip()
    out = wharf("run", "--name", "taken", "--network", "none", "busybox", "true", check=False)
    assert (out.returncode, out.stderr) == (
        125,
        'wharf: Error response from daemon: Conflict. The container name "/taken" is already '
        f'in use by container "{cid}". You have to remove (or rename) that container to be '
        "able to reuse that name.\n"
        "See 'wharf run --help'.\n",
    )
    # create prints its daemon's refusal as it is, and fails with 1
    out = wharf("create", "--name", "taken", "--network", "none", "busybox", "true", check=False)
    assert (out.returncode, out.stderr) == (
        1,
        'Error response from daemon: Conflict. The container name "/taken" is already '
        f'in use by container "{cid}". You have to remove (or rename) that container to be '
        "able to reuse that name.\n",
    )
    out = wharf("run", "--network", "nonet", "busybox", "true", check=False)
    assert (out.returncode, out.stderr) == (
        125,
        "wharf: Error response from daemon: network nonet not found.\nSee 'wharf run --help'.\n",
    )
    # a failed start: the container was made, so no hint; a missing command is 127
    out = wharf("run", "--network", "none", "busybox", "/nosuch", check=False)
    assert out.returncode == 127
    (line,) = out.stderr.splitlines()
    assert line.startswith("wharf: Error response from daemon: ") and line.endswith(".")


def test_conflicts_of_rmi_and_in_use_volumes(wharf, busybox_image):
    cid = wharf("create", "--network", "none", "-v", "held:/data", "busybox", "true").stdout
    image = wharf("image", "inspect", "-f", "{{.Id}}", "busybox").stdout.strip()
    out = wharf("rmi", "busybox", check=False)
    assert (out.returncode, out.stderr) == (
        1,
        'Error response from daemon: conflict: unable to remove repository reference "busybox" '
        f"(must force) - container {cid[:12]} is using its referenced image "
        f"{image.removeprefix('sha256:')[:12]}\n",
    )
    out = wharf("volume", "rm", "held", check=False)
    assert (out.returncode, out.stderr) == (
        1,
        f"Error response from daemon: remove held: volume is in use - [{cid.strip()}]\n",
    )


def test_an_unknown_filter_is_the_daemon_s_answer(wharf):
    out = wharf("ps", "-f", "colour=red", check=False)
    assert (out.returncode, out.stderr) == (
        1,
        "Error response from daemon: Invalid filter 'colour'\n",
    )


def test_a_flag_value_that_does_not_parse_is_the_client_s_refusal(wharf):
    # Docker's client parses flag values before it asks its daemon: no daemon's prefix
    out = wharf("run", "-m", "1x", "busybox", "true", check=False)
    assert (out.returncode, out.stderr) == (
        125,
        "wharf: invalid --memory value '1x': expected a size such as 512m or 1g.\n"
        "See 'wharf run --help'.\n",
    )
    out = wharf("create", "-m", "1x", "busybox", check=False)
    assert out.returncode == 125 and out.stderr.endswith("See 'wharf create --help'.\n")
