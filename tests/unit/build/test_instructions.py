"""The one applier of configuration instructions: build, commit -c and import -c share it."""

from __future__ import annotations

import pytest

from runtime.build.instructions import apply_changes
from runtime.errors import InvalidArgument


def test_changes_apply_like_docker():
    config = apply_changes(
        {"Env": ["PATH=/bin"]},
        [
            'CMD ["echo", "hi"]',
            "ENTRYPOINT /bin/sh -x",
            "ENV A=1 B=two",
            "ENV PATH /usr/bin",
            "WORKDIR /srv",
            "USER 1000:1000",
            "EXPOSE 80 53/udp",
            "LABEL team=core",
            "VOLUME /data",
            "STOPSIGNAL SIGINT",
        ],
    )
    assert config == {
        "Env": ["PATH=/usr/bin", "A=1", "B=two"],
        "Cmd": ["echo", "hi"],  # a CMD before ENTRYPOINT in the same changes stays
        "Entrypoint": ["/bin/sh", "-c", "/bin/sh -x"],
        "WorkingDir": "/srv",
        "User": "1000:1000",
        "ExposedPorts": {"80/tcp": {}, "53/udp": {}},
        "Labels": {"team": "core"},
        "Volumes": {"/data": {}},
        "StopSignal": "SIGINT",
    }


def test_env_old_form_keeps_spaces_and_onbuild_is_accepted():
    config = apply_changes({}, ["ENV A hello world", "ONBUILD RUN echo hi"])
    assert config == {"Env": ["A=hello world"], "OnBuild": ["RUN echo hi"]}


def test_healthcheck_takes_go_durations():
    config = apply_changes({}, ["HEALTHCHECK --interval=1m30s --retries=2 CMD true"])
    assert config["Healthcheck"] == {
        "Test": ["CMD-SHELL", "true"],
        "Interval": 90 * 10**9,
        "Retries": 2,
    }


def test_an_inherited_cmd_is_dropped_by_a_new_entrypoint():
    config = apply_changes({"Cmd": ["old"]}, ['ENTRYPOINT ["run"]'])
    assert config["Cmd"] is None and config["Entrypoint"] == ["run"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("RUN true", "RUN is not a valid change command"),
        ("FROM busybox", "FROM is not a valid change command"),
        ("BOGUS x", "unknown instruction: BOGUS"),
        ("HEALTHCHECK --interval=soon CMD true", "invalid duration"),
        ("HEALTHCHECK --timeout=10us CMD true", 'Interval "timeout" cannot be less than 1ms'),
        ("HEALTHCHECK --retries=-1 CMD true", "not a number"),
    ],
)
def test_bad_changes_are_refused(change, message):
    with pytest.raises(InvalidArgument, match=message):
        apply_changes({}, [change])
