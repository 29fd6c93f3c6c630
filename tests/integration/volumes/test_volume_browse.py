"""The volume browser's listing, attacked from inside: a container plants symlinks in its
volume (to ``/``, up with ``..``, to the host's ``/etc``) and the listing must show them as
links and never list anything outside the volume, whatever path is asked for."""

from __future__ import annotations

import os

import pytest
from test_volumes import run

from runtime.errors import InvalidArgument, NotFound

PLANT = (
    "mkdir -p /data/sub/deeper && echo hi > /data/sub/f && "
    "ln -s / /data/escape && ln -s ../../../../../.. /data/up && "
    "ln -s /etc /data/etc-link && ln -s /data/sub /data/abs-sub && echo ok"
)


@pytest.fixture
def planted(rt, busybox_image):
    rt.volumes.create("browsed")
    code, out, err = run(rt, "sh", "-c", PLANT, volumes=["browsed:/data"])
    assert code == 0 and out.strip() == "ok", err
    return rt.volumes.get("browsed").mountpoint


def _names(listing: dict) -> set[str]:
    return {e["name"] for e in listing["entries"]}


def test_the_top_lists_files_and_shows_links_as_links(rt, planted):
    top = rt.volumes.files("browsed", "/")
    assert _names(top) == {"sub", "escape", "up", "etc-link", "abs-sub"}
    by_name = {e["name"]: e for e in top["entries"]}
    assert by_name["sub"]["type"] == "directory" and top["entries"][0]["name"] == "sub"
    assert by_name["escape"] == {**by_name["escape"], "type": "symlink", "target": "/"}
    assert by_name["etc-link"]["target"] == "/etc"
    sub = rt.volumes.files("browsed", "sub")
    assert _names(sub) == {"deeper", "f"} and sub["path"] == "/sub"
    assert {e["name"]: e["size"] for e in sub["entries"]}["f"] == 3


@pytest.mark.parametrize(
    "path", ["escape", "up", "..", "../../../..", "/../..", "sub/../../..", "escape/escape/.."]
)
def test_no_path_leads_above_the_volume(rt, planted, path):
    """Each of these resolves to the volume's own top (its '/'), never the host's."""
    listing = rt.volumes.files("browsed", path)
    assert _names(listing) == {"sub", "escape", "up", "etc-link", "abs-sub"}
    assert not _names(listing) & set(os.listdir("/"))


def test_a_link_to_the_hosts_etc_finds_no_etc_in_the_volume(rt, planted):
    # /etc inside the volume does not exist; the host's /etc is never listed
    with pytest.raises(NotFound):
        rt.volumes.files("browsed", "etc-link")
    with pytest.raises(NotFound):
        rt.volumes.files("browsed", "escape/etc")
    # an absolute link resolves at the volume's top: /data/sub is not there, /sub is
    with pytest.raises(NotFound):
        rt.volumes.files("browsed", "abs-sub")


def test_a_file_or_a_bad_path_is_one_clear_error(rt, planted):
    with pytest.raises(InvalidArgument, match="not a directory: /sub/f"):
        rt.volumes.files("browsed", "sub/f")
    with pytest.raises(InvalidArgument):
        rt.volumes.files("browsed", "a\0b")
    with pytest.raises(NotFound):
        rt.volumes.files("no-such-volume", "/")


def test_a_huge_directory_is_cut_and_counted(rt, planted):
    from runtime.volumes.browse import list_dir

    for i in range(30):
        (planted / "sub" / "deeper" / f"n{i:02}").touch()
    listing = list_dir(planted, "/sub/deeper", limit=10)
    assert listing["total"] == 30 and listing["truncated"] and len(listing["entries"]) == 10
