"""config.json generation: Docker's capabilities, seccomp conversion, masks, clamped rlimits."""

from __future__ import annotations

import json
import resource

import pytest

from runtime.oci import spec
from runtime.oci.spec import DEFAULT_CAPS, OCIOptions, build_config, capability_set, seccomp_section


def test_the_default_set_is_dockers_14():
    caps = capability_set(False, [], [])
    assert len(DEFAULT_CAPS) == 14 and sorted(caps) == sorted(DEFAULT_CAPS)


def test_cap_add_and_drop_all():
    assert "CAP_NET_ADMIN" in capability_set(False, ["net_admin"], [])
    assert capability_set(False, [], ["ALL"]) == []
    assert capability_set(False, ["CHOWN"], ["ALL"]) == ["CAP_CHOWN"]


def test_non_root_user_gets_no_effective_capabilities():
    config = build_config(OCIOptions(args=["x"], env=[], uid=1000))
    caps = config["process"]["capabilities"]
    assert caps["effective"] == [] and caps["permitted"] == [] and len(caps["bounding"]) >= 13


def test_isolation_defaults_and_privileged():
    config = build_config(OCIOptions(args=["x"], env=[]))
    linux = config["linux"]
    assert "/proc/kcore" in linux["maskedPaths"] and "/proc/sys" in linux["readonlyPaths"]
    assert {n["type"] for n in linux["namespaces"]} == {"pid", "ipc", "mount", "uts", "network"}
    assert linux["resources"]["devices"] == [{"allow": False, "access": "rwm"}]
    assert "seccomp" in linux
    destinations = [m["destination"] for m in config["mounts"]]
    assert destinations[:4] == ["/proc", "/dev", "/dev/pts", "/sys"] and "/dev/shm" in destinations
    privileged = build_config(OCIOptions(args=["x"], env=[], privileged=True))["linux"]
    assert "seccomp" not in privileged and "maskedPaths" not in privileged


def test_seccomp_rules_follow_capabilities_and_arch(tmp_path):
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 38,
        "archMap": [
            {
                "architecture": spec._SECCOMP_ARCH.get(
                    __import__("platform").machine(), "SCMP_ARCH_X86_64"
                ),
                "subArchitectures": ["SCMP_ARCH_X86"],
            }
        ],
        "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {}, "excludes": {}},
            {
                "names": ["mount"],
                "action": "SCMP_ACT_ALLOW",
                "includes": {"caps": ["CAP_SYS_ADMIN"]},
                "excludes": {},
            },
            {
                "names": ["ptrace"],
                "action": "SCMP_ACT_ALLOW",
                "includes": {},
                "excludes": {"caps": ["CAP_SYS_PTRACE"]},
            },
            {
                "names": ["s390_only"],
                "action": "SCMP_ACT_ALLOW",
                "includes": {"arches": ["s390x"]},
                "excludes": {},
            },
        ],
    }
    path = tmp_path / "p.json"
    path.write_text(json.dumps(profile))
    names = [s["names"][0] for s in seccomp_section(str(path), list(DEFAULT_CAPS))["syscalls"]]
    assert names == ["read", "ptrace"]
    names = [
        s["names"][0]
        for s in seccomp_section(str(path), ["CAP_SYS_ADMIN", "CAP_SYS_PTRACE"])["syscalls"]
    ]
    assert names == ["read", "mount"]
    section = seccomp_section(str(path), [])
    assert section["defaultErrnoRet"] == 38 and len(section["architectures"]) == 2


def test_rlimits_never_exceed_our_hard_limit():
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    config = build_config(OCIOptions(args=["x"], env=[], ulimits=[("nofile", 10**9, 10**9)]))
    (nofile,) = [r for r in config["process"]["rlimits"] if r["type"] == "RLIMIT_NOFILE"]
    assert nofile["hard"] <= hard and nofile["soft"] <= nofile["hard"]


def test_oom_score_adj_is_never_below_ours():
    config = build_config(OCIOptions(args=["x"], env=[], oom_score_adj=-1000))
    with open("/proc/self/oom_score_adj") as f:
        ours = int(f.read())
    assert config["process"]["oomScoreAdj"] >= ours


def test_the_default_profile_is_dockers_and_never_a_looser_one(monkeypatch, tmp_path):
    """Without Docker's profile the start fails saying how to get it; no fallback."""
    from runtime.errors import HostError

    monkeypatch.setattr(spec, "DOCKER_SECCOMP_PROFILES", (tmp_path / "missing.json",))
    with pytest.raises(HostError, match="scripts/setup.sh"):
        build_config(OCIOptions(args=["x"], env=[]))


def test_the_default_profile_refuses_vsock_and_af_alg_sockets(monkeypatch, tmp_path):
    profile = tmp_path / "docker.json"
    profile.write_text(
        json.dumps(
            {
                "defaultAction": "SCMP_ACT_ERRNO",
                "syscalls": [
                    {"names": ["read", "socket", "socketcall"], "action": "SCMP_ACT_ALLOW"},
                    {"names": ["socket"], "action": "SCMP_ACT_ALLOW"},
                ],
            }
        )
    )
    monkeypatch.setattr(spec, "DOCKER_SECCOMP_PROFILES", (profile,))
    rules = seccomp_section(None, list(DEFAULT_CAPS))["syscalls"]
    assert rules[0]["names"] == ["read"]
    allowed = [r["args"][0] for r in rules if r["names"] == ["socket"]]
    assert all(len(r["args"]) == 1 for r in rules if r["names"] == ["socket"])

    def permits(family: int) -> bool:
        ops = {"SCMP_CMP_LT": int.__lt__, "SCMP_CMP_EQ": int.__eq__, "SCMP_CMP_GT": int.__gt__}
        return any(ops[a["op"]](family, a["value"]) for a in allowed)

    assert [f for f in range(64) if not permits(f)] == [38, 40]  # AF_ALG, AF_VSOCK
    assert not any("socketcall" in r["names"] for r in rules)
    # a profile the person names is taken as it is
    assert seccomp_section(str(profile), [])["syscalls"][0]["names"] == [
        "read",
        "socket",
        "socketcall",
    ]
