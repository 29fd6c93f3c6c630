"""The admin's address pools (host config ``default_address_pools``), as dockerd's."""

from __future__ import annotations

import json
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from runtime.config import HostConfig
from runtime.errors import Conflict, InvalidArgument
from runtime.network import ipam


def _load(tmp_path: Path, pools: object) -> HostConfig:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"default_address_pools": pools}))
    return HostConfig.load(path)


def test_pools_are_cut_into_subnets_in_order(tmp_path: Path) -> None:
    cfg = _load(
        tmp_path,
        [{"base": "10.50.0.0/23", "size": 24}, {"base": "10.60.0.0/16", "size": 16}],
    )
    taken: list[IPv4Network] = []
    for _ in range(3):
        taken.append(ipam.pick_subnet(taken, cfg.default_address_pools))
    assert taken == [
        IPv4Network("10.50.0.0/24"),
        IPv4Network("10.50.1.0/24"),
        IPv4Network("10.60.0.0/16"),
    ]


def test_a_subnet_overlapping_a_taken_one_is_passed_over(tmp_path: Path) -> None:
    cfg = _load(tmp_path, [{"base": "10.50.0.0/22", "size": 24}])
    taken = [IPv4Network("10.50.0.0/24"), IPv4Network("10.50.1.128/25")]
    pick = ipam.pick_subnet(taken, cfg.default_address_pools)
    assert pick == IPv4Network("10.50.2.0/24")


def test_a_spent_pool_says_so(tmp_path: Path) -> None:
    cfg = _load(tmp_path, [{"base": "10.50.0.0/24", "size": 24}])
    with pytest.raises(Conflict, match="fully subnetted"):
        ipam.pick_subnet([IPv4Network("10.50.0.0/16")], cfg.default_address_pools)


def test_a_huge_pool_is_not_listed_whole(tmp_path: Path) -> None:
    cfg = _load(tmp_path, [{"base": "10.0.0.0/8", "size": 30}])
    # 4 million subnets: the first free one is found without making them all
    pick = ipam.pick_subnet([IPv4Network("10.0.0.0/30")], cfg.default_address_pools)
    assert pick == IPv4Network("10.0.0.4/30")
    # nor walked one by one past what is taken: a route over half of it is one step
    taken = [IPv4Network("10.0.0.0/9"), IPv4Network("10.128.0.0/30"), IPv4Network("10.128.0.8/29")]
    assert ipam.pick_subnet(taken, cfg.default_address_pools) == IPv4Network("10.128.0.4/30")
    taken.append(IPv4Network("10.128.0.4/30"))
    assert ipam.pick_subnet(taken, cfg.default_address_pools) == IPv4Network("10.128.0.16/30")
    with pytest.raises(Conflict, match="fully subnetted"):
        ipam.pick_subnet([IPv4Network("10.0.0.0/8")], cfg.default_address_pools)


def test_a_taken_network_not_aligned_to_the_size_is_stepped_past(tmp_path: Path) -> None:
    cfg = _load(tmp_path, [{"base": "10.50.0.0/16", "size": 24}])
    taken = [IPv4Network("10.50.0.128/25"), IPv4Network("10.50.1.0/30")]
    assert ipam.pick_subnet(taken, cfg.default_address_pools) == IPv4Network("10.50.2.0/24")


def test_without_pools_docker_s_own_are_used() -> None:
    assert ipam.pick_subnet([IPv4Network("172.17.0.0/16")]) == IPv4Network("172.18.0.0/16")


@pytest.mark.parametrize(
    ("pools", "says"),
    [
        ({"base": "10.0.0.0/8", "size": 24}, "must be a list"),
        ([{"base": "10.0.0.0/8"}], "'base': CIDR, 'size': PREFIX"),
        ([{"base": "10.0.0.0/8", "size": 24, "x": 1}], "'base': CIDR, 'size': PREFIX"),
        ([{"base": "10.0.0.1/8", "size": 24}], "address pool base '10.0.0.1/8'"),
        ([{"base": "not-a-net", "size": 24}], "address pool base 'not-a-net'"),
        ([{"base": "10.0.0.0/16", "size": 8}], "size 8 must be a prefix length from 16 to 30"),
        ([{"base": "10.0.0.0/16", "size": 31}], "size 31 must be a prefix length from 16 to 30"),
        ([{"base": "10.0.0.0/16", "size": "24"}], "size '24' must be a prefix length"),
        ([{"base": "10.0.0.0/16", "size": True}], "size True must be a prefix length"),
    ],
)
def test_bad_pools_are_refused_by_what_is_wrong(tmp_path: Path, pools: object, says: str) -> None:
    with pytest.raises(InvalidArgument, match="host configuration .*: ") as err:
        _load(tmp_path, pools)
    assert says in str(err.value)
