"""Networks take their subnets from the host config's address pools, as dockerd's
``default-address-pools``: the default bridge the first, each new network the next
free one, a container an address in it."""

from __future__ import annotations

import json
from ipaddress import IPv4Network

from tests.integration.conftest import address_pool, set_host_config


def _subnet(wharf, name: str) -> IPv4Network:
    data = json.loads(wharf("network", "inspect", name).stdout)[0]
    return IPv4Network(data["IPAM"]["Config"][0]["Subnet"])


def test_networks_are_cut_from_the_configured_pool(wharf):
    pool = list(IPv4Network(address_pool()["base"]).subnets(new_prefix=24))
    assert _subnet(wharf, "bridge") == pool[0]
    wharf("network", "create", "one")
    wharf("network", "create", "two")
    assert [_subnet(wharf, "one"), _subnet(wharf, "two")] == pool[1:3]
    ip = wharf(
        "run", "--rm", "--network", "two", "busybox", "ip", "-o", "-4", "addr", "show", "eth0"
    ).stdout
    assert f" {pool[2][2]}/24 " in ip, ip


def test_a_spent_pool_is_refused_and_leaves_no_network(wharf, wharf_paths):
    first = IPv4Network(address_pool()["base"]).subnets(new_prefix=24)
    set_host_config(wharf_paths, default_address_pools=[{"base": str(next(first)), "size": 24}])
    proc = wharf("network", "create", "nomore", check=False)  # the bridge has the only one
    assert proc.returncode != 0
    assert "all predefined address pools have been fully subnetted" in proc.stderr
    assert "nomore" not in wharf("network", "ls").stdout
