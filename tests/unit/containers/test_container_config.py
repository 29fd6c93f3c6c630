"""Docker's rules for the container config, without root or a kernel."""

from __future__ import annotations

import pytest

from runtime.containers.config import merge_config, signal_number
from runtime.containers.model import ContainerSpec, parse_cpus, parse_size
from runtime.errors import CommandNotExecutable, CommandNotFound, InvalidArgument, OCIRuntimeError
from runtime.oci.runc import classify_start_error

IMAGE = {
    "Env": ["PATH=/bin", "A=image"],
    "Cmd": ["sh"],
    "Entrypoint": None,
    "WorkingDir": "/w",
    "User": "daemon",
    "Labels": {"x": "1"},
    "StopSignal": "SIGQUIT",
}


def test_it_keeps_the_image_cmd_when_none_is_given():
    cfg = merge_config(ContainerSpec(image="i"), IMAGE, "a" * 64, "i")
    assert cfg["Cmd"] == ["sh"] and cfg["Entrypoint"] is None
    assert cfg["Hostname"] == "a" * 12 and cfg["WorkingDir"] == "/w" and cfg["User"] == "daemon"
    assert cfg["StopSignal"] == "SIGQUIT"


def test_a_new_entrypoint_drops_the_image_cmd():
    cfg = merge_config(ContainerSpec(image="i", entrypoint=["echo"]), IMAGE, "a" * 64, "i")
    assert cfg["Entrypoint"] == ["echo"] and cfg["Cmd"] is None
    cfg = merge_config(
        ContainerSpec(image="i", entrypoint=["echo"], cmd=["hi"]), IMAGE, "a" * 64, "i"
    )
    assert cfg["Cmd"] == ["hi"]


def test_an_empty_entrypoint_resets_it():
    image = dict(IMAGE, Entrypoint=["/entry"])
    cfg = merge_config(ContainerSpec(image="i", entrypoint=[], cmd=["ls"]), image, "a" * 64, "i")
    assert cfg["Entrypoint"] is None and cfg["Cmd"] == ["ls"]


def test_env_flags_override_the_image_and_the_record_holds_only_what_was_given():
    cfg = merge_config(ContainerSpec(image="i", env=["A=flag", "B=2"]), IMAGE, "a" * 64, "i")
    assert cfg["Env"] == ["PATH=/bin", "A=flag", "B=2"]
    # as Docker: the default PATH goes to the process (container_env), not to Config.Env
    cfg = merge_config(ContainerSpec(image="i"), {"Cmd": ["x"]}, "a" * 64, "i")
    assert cfg["Env"] == []


def test_attach_streams_as_dockers_client_sets_them():
    def attach(**options):
        cfg = merge_config(ContainerSpec(image="i", **options), IMAGE, "a" * 64, "i")
        return [cfg[k] for k in ("AttachStdin", "AttachStdout", "AttachStderr", "StdinOnce")]

    assert attach() == [False, True, True, False]
    assert attach(stdin_open=True) == [True, True, True, True]
    assert attach(attach=[]) == [False, False, False, False]  # -d
    assert attach(attach=[], stdin_open=True) == [False, False, False, False]  # -di
    assert attach(attach=["stderr"]) == [False, False, True, False]
    assert attach(attach=["stderr"], stdin_open=True) == [True, False, True, True]


def test_published_ports_are_exposed():
    cfg = merge_config(
        ContainerSpec(image="i", ports=["8080:80", "127.0.0.1::53/udp"], expose=["9000"]),
        IMAGE,
        "a" * 64,
        "i",
    )
    assert cfg["ExposedPorts"] == {"9000/tcp": {}, "80/tcp": {}, "53/udp": {}}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("512m", 512 << 20),
        ("1g", 1 << 30),
        ("1024", 1024),
        ("1.5k", 1536),
        ("-1", -1),
        ("64MiB", 64 << 20),
    ],
)
def test_it_parses_docker_sizes(text, value):
    assert parse_size(text, "--memory") == value


@pytest.mark.parametrize("text", ["1x", "", "m", "ten"])
def test_it_refuses_bad_sizes(text):
    with pytest.raises(InvalidArgument, match="--memory"):
        parse_size(text, "--memory")


def test_it_refuses_non_positive_cpus():
    assert parse_cpus("0.5") == 0.5
    for bad in ("-1", "0", "x"):
        with pytest.raises(InvalidArgument, match="--cpus"):
            parse_cpus(bad)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (ContainerSpec(image="i", memory=1024), "minimum memory"),
        (ContainerSpec(image="i", memory=64 << 20, memory_swap=32 << 20), "memoryswap"),
        (ContainerSpec(image="i", restart="sometimes"), "restart policy"),
        (ContainerSpec(image="i", name="bad name"), "Invalid container name"),
        (ContainerSpec(image="i", cpuset_cpus="0-"), "cpuset"),
        (ContainerSpec(image="i", cap_add=["NOPE"]), "capability"),
    ],
)
def test_validate_names_the_bad_value(spec, message):
    with pytest.raises(InvalidArgument, match=message):
        spec.validate()


def test_signals_by_name_or_number():
    assert (
        signal_number("KILL") == 9 and signal_number("SIGTERM") == 15 and signal_number("10") == 10
    )
    with pytest.raises(InvalidArgument):
        signal_number("NOPE")


def test_start_errors_map_to_docker_exit_codes():
    not_found = classify_start_error(
        'runc create failed: unable to start container process: exec: "x": executable file not found in $PATH'
    )
    assert isinstance(not_found, CommandNotFound) and not_found.exit_code == 127
    denied = classify_start_error(
        'unable to start container process: exec: "/etc": permission denied'
    )
    assert isinstance(denied, CommandNotExecutable) and denied.exit_code == 126
    other = classify_start_error("cgroup: no space left")
    assert isinstance(other, OCIRuntimeError) and other.exit_code == 125
