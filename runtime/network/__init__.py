"""Docker's network model on one host: bridges, per-container namespaces, IPAM,
published ports and DNS by name (see docs/architecture.md).

``manager`` holds the records and decisions and runs in any process; ``links``
does the netlink plumbing with pyroute2 and runs in the host agent, which has
pyroute2 loaded already (importing it costs a CLI call ~150 ms); ``firewall``
keeps Wharf's own nftables table through libnftables.
"""
