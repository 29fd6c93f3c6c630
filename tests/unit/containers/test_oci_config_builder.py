"""The OCI-config builder is pure: a container and a RunSetup in, config.json out.

Nothing here touches a rootfs, a network namespace or a cgroup: the facts a
start finds on the host come in as plain values, so each rule is seen alone.
"""

from __future__ import annotations

from pathlib import Path

from runtime.containers.config import DEFAULT_PATH, merge_config
from runtime.containers.model import Container, ContainerSpec
from runtime.containers.ociconfig import (
    INIT_BINARY,
    RunSetup,
    build_oci_config,
    container_env,
    oci_netns,
)

CTR_ID = "ab" * 32


def container(image_cfg: dict | None = None, **spec_options) -> Container:
    spec = ContainerSpec(image="alpine", security_opt=["seccomp=unconfined"], **spec_options)
    config = merge_config(spec, image_cfg or {"Cmd": ["sh"]}, CTR_ID, image_ref="alpine")
    return Container(
        id=CTR_ID,
        name="c1",
        image_id="sha256:" + "0" * 64,
        image="alpine",
        created="",
        spec=spec,
        config=config,
    )


def setup(**options) -> RunSetup:
    values = {
        "rootfs": Path("/run/x/rootfs"),
        "etc_dir": Path("/root/x"),
        "security": {"seccomp": "unconfined"},
    }
    return RunSetup(**{**values, **options})


def namespaces(config: dict) -> dict[str, str | None]:
    return {n["type"]: n.get("path") for n in config["linux"]["namespaces"]}


def mount_at(config: dict, destination: str) -> dict:
    return next(m for m in config["mounts"] if m["destination"] == destination)


def test_it_joins_the_network_namespace_the_network_part_made():
    config = build_oci_config(container(), setup(netns_path="/run/netns/wh-1"))
    assert namespaces(config)["network"] == "/run/netns/wh-1"


def test_it_asks_for_a_fresh_network_namespace_when_given_an_empty_path():
    config = build_oci_config(container(), setup(netns_path=""))
    assert "network" in namespaces(config)
    assert namespaces(config)["network"] is None


def test_it_stays_in_the_hosts_network_namespace_for_none():
    config = build_oci_config(container(), setup(netns_path=None))
    assert "network" not in namespaces(config)
    assert oci_netns(None) == "host"


def test_it_binds_the_etc_files_from_the_given_directory():
    config = build_oci_config(container(), setup(etc_dir=Path("/data/c1")))
    for name in ("hostname", "hosts", "resolv.conf"):
        mount = mount_at(config, f"/etc/{name}")
        assert (mount["source"], mount["type"]) == (f"/data/c1/{name}", "bind")


def test_it_appends_the_volume_mounts_after_the_etc_files():
    volume = {"destination": "/data", "type": "bind", "source": "/srv/v", "options": ["rbind"]}
    config = build_oci_config(container(), setup(volume_mounts=[volume]))
    destinations = [m["destination"] for m in config["mounts"]]
    assert destinations.index("/data") > destinations.index("/etc/resolv.conf")


def test_it_puts_the_init_binary_before_the_command():
    config = build_oci_config(container(init=True), setup())
    assert config["process"]["args"] == ["/sbin/docker-init", "--", "sh"]
    assert mount_at(config, "/sbin/docker-init")["source"] == INIT_BINARY


def test_it_gives_dockers_environment():
    c = container({"Cmd": ["sh"], "Env": ["PATH=/bin"]}, tty=True)
    env = build_oci_config(c, setup(home="/home/app"))["process"]["env"]
    assert env[0] == f"HOSTNAME={CTR_ID[:12]}"
    assert {"PATH=/bin", "HOME=/home/app", "TERM=xterm"} <= set(env)


def test_it_keeps_the_images_home_and_defaults_to_slash():
    c = container({"Cmd": ["sh"], "Env": ["HOME=/srv"]})
    assert "HOME=/srv" in container_env(c, "/root")
    assert "HOME=/" in container_env(container(), "")


def test_a_process_gets_dockers_path_when_the_image_has_none():
    c = container({"Cmd": ["sh"]}, env=["A=1"])
    assert c.config["Env"] == ["A=1"]
    env = container_env(c, "/root")
    assert DEFAULT_PATH in env and "A=1" in env


def test_it_uses_the_resolved_user():
    config = build_oci_config(container(), setup(uid=1000, gid=100, additional_gids=[5]))
    assert config["process"]["user"] == {"uid": 1000, "gid": 100, "additionalGids": [5]}
    assert config["process"]["capabilities"]["effective"] == []


def test_it_maps_a_private_user_namespace_to_the_given_range():
    config = build_oci_config(container(userns="private"), setup(userns=(200000, 65536)))
    assert "user" in namespaces(config)
    assert config["linux"]["uidMappings"] == [{"containerID": 0, "hostID": 200000, "size": 65536}]


def test_the_read_only_cgroup_hook_is_for_v1_only():
    v1 = build_oci_config(container(), setup(cgroup_v2=False, hook_binary="/usr/lib/shim"))
    v2 = build_oci_config(container(), setup(cgroup_v2=True, hook_binary="/usr/lib/shim"))
    assert v1["hooks"]["createContainer"][0]["path"] == "/usr/lib/shim"
    assert "hooks" not in v2


def test_the_swap_limit_follows_the_hosts_accounting():
    with_swap = build_oci_config(container(memory=64 << 20), setup(swap_accounting=True))
    without = build_oci_config(container(memory=64 << 20), setup(swap_accounting=False))
    assert with_swap["linux"]["resources"]["memory"] == {"limit": 64 << 20, "swap": 128 << 20}
    assert without["linux"]["resources"]["memory"] == {"limit": 64 << 20}


def test_it_takes_the_block_io_limits_as_given():
    block = {"weight": 300}
    config = build_oci_config(container(), setup(block_io=block))
    assert config["linux"]["resources"]["blockIO"] == block


def test_it_runs_in_the_containers_own_cgroup():
    config = build_oci_config(container(), setup())
    assert config["linux"]["cgroupsPath"] == f"/wharf/{CTR_ID}"
    assert config["root"] == {"path": "/run/x/rootfs", "readonly": False}


def test_the_network_parts_hooks_come_before_its_own_and_the_namespace_is_fresh():
    plug = {"path": "/usr/lib/shim", "args": ["wharf-shim", "plug-netns", "/run/a.sock", CTR_ID]}
    config = build_oci_config(
        container(userns="private"),
        setup(netns_path="", hooks={"createRuntime": [plug]}, hook_binary="/usr/lib/shim"),
    )
    assert config["hooks"]["createRuntime"] == [plug]
    assert [h["args"][1] for h in config["hooks"]["createContainer"]] == ["remount-ro"]
    assert namespaces(config)["network"] is None


def test_it_adds_the_hooks_the_network_set_up_asks_for():
    plug = {"path": "/usr/lib/wharf-shim", "args": ["wharf-shim", "plug"]}
    config = build_oci_config(
        container(userns="private"), setup(netns_path="", hooks={"createRuntime": [plug]})
    )
    assert config["hooks"]["createRuntime"] == [plug]
