"""A removed root takes its host objects with it: its agent, on the way out, removes the
bridge, veths, nftables table and iptables FORWARD rules only that root's tag names."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from runtime.network.manager import host_links, host_tag


def nft(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["nft", *args], capture_output=True, text=True, check=check)


def test_a_removed_roots_bridge_table_and_rules_go(wharf, wharf_paths):
    # iptables-nft's FORWARD chain (where Docker's DROP policy lives) gets Wharf's accept
    # rules; make the chain for this test when the host has none, policy accept
    made_filter = nft("list", "table", "ip", "filter", check=False).returncode != 0
    if made_filter:
        nft("add table ip filter")
        nft("add chain ip filter FORWARD { type filter hook forward priority 0; policy accept; }")
    try:
        tag = host_tag(wharf_paths.root)
        assert wharf("run", "--rm", "busybox", "true").returncode == 0  # the default bridge
        wharf("network", "create", "extra")
        wharf("run", "-d", "--network", "extra", "busybox", "sleep", "300")
        assert [link for link in host_links() if link.startswith(f"wh{tag}-")]
        assert nft("list", "table", "ip", f"wharf_{tag}", check=False).returncode == 0
        comment = f"wharf {tag}"
        rules = json.loads(nft("-j", "list", "chain", "ip", "filter", "FORWARD").stdout)
        assert any(comment in json.dumps(i) for i in rules["nftables"] if "rule" in i)
        # the container goes first (its shim is no part of this), then the root
        for cid in wharf("ps", "-q").stdout.split():
            wharf("rm", "-f", cid)
        agent = int((wharf_paths.run / "agent.pid").read_text())
        shutil.rmtree(wharf_paths.root)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{agent}").exists():
            assert time.monotonic() < deadline, "the agent did not exit with its root"
            time.sleep(0.1)
        assert not [link for link in host_links() if link.startswith((f"wh{tag}", f"wv{tag}"))]
        assert nft("list", "table", "ip", f"wharf_{tag}", check=False).returncode != 0
        rules = json.loads(nft("-j", "list", "chain", "ip", "filter", "FORWARD").stdout)
        assert not any(comment in json.dumps(i) for i in rules["nftables"] if "rule" in i)
        log = (wharf_paths.run / "agent.log").read_text()
        assert f"removed nftables table ip wharf_{tag}" in log and f"removed link wh{tag}-" in log
    finally:
        if made_filter:
            nft("delete table ip filter", check=False)
