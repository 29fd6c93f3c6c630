"""Docker's storage flags, parsed: what each form means and what is refused."""

import pytest

from runtime.errors import InvalidArgument
from runtime.volumes.specs import parse_mount_flag, parse_tmpfs_flag, parse_volume_flag


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("/data", ("volume", "", "/data", False)),
        ("data:/data", ("volume", "data", "/data", False)),
        ("data:/data:ro", ("volume", "data", "/data", True)),
        ("/srv/x:/x", ("bind", "/srv/x", "/x", False)),
        ("/srv/x:/x:ro,rslave", ("bind", "/srv/x", "/x", True)),
        ("data:/a/../b/", ("volume", "data", "/b", False)),
    ],
)
def test_volume_flags(flag, expected):
    r = parse_volume_flag(flag)
    assert (r.type, r.source, r.destination, r.readonly) == expected


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("./rel:/x", "relative host path"),
        ("rel/dir:/x", "relative host path"),
        ("data:x", "not an absolute path"),
        ("data:/proc/x", "/proc"),
        ("data:/sys", "/sys"),
        ("data:/", "root"),
        ("data:/x:bogus", "unknown option"),
        ("a:b:c:d", "too many colons"),
        ("-bad:/x", "invalid characters"),
    ],
)
def test_bad_volume_flags_are_refused_with_a_reason(flag, message):
    with pytest.raises(InvalidArgument, match=message):
        parse_volume_flag(flag)


def test_mount_flag_forms():
    r = parse_mount_flag("type=bind,source=/srv/a,target=/a,readonly,bind-propagation=rshared")
    assert (r.type, r.source, r.destination, r.readonly, r.propagation) == (
        "bind",
        "/srv/a",
        "/a",
        True,
        "rshared",
    )
    assert not r.create_host_path, "--mount never creates a missing host path (Docker's rule)"
    r = parse_mount_flag("type=volume,src=v1,dst=/v,volume-nocopy")
    assert (r.source, r.destination, r.nocopy) == ("v1", "/v", True)
    r = parse_mount_flag("type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770")
    assert r.tmpfs_options == ["size=64m", "mode=1770"]


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("type=nfs,target=/x", "unknown mount type"),
        ("type=bind,source=rel,target=/x", "absolute host path"),
        ("type=volume,source=v", "target is required"),
        ("type=tmpfs,source=x,target=/t", "takes no source"),
        ("type=tmpfs,target=/t,tmpfs-size=big", "not a size"),
        ("type=volume,target=/t,colour=red", "unknown field"),
    ],
)
def test_bad_mount_flags(flag, message):
    with pytest.raises(InvalidArgument, match=message):
        parse_mount_flag(flag)


def test_tmpfs_flag():
    r = parse_tmpfs_flag("/run:size=1m,mode=700,exec")
    assert (r.destination, r.tmpfs_options) == ("/run", ["size=1m", "mode=700", "exec"])
    with pytest.raises(InvalidArgument, match="unknown tmpfs option"):
        parse_tmpfs_flag("/run:rm=-rf")
