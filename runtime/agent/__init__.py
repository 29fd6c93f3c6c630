"""The host agent: one long-lived root process per Wharf root (docs/architecture.md,
"runtime/").

It owns what cannot live in a short CLI call: the DNS resolver of user-defined
networks, and the netlink plumbing whose library (pyroute2) costs a fresh
process ~150 ms to import. A CLI call, the worker or a test reaches it through
``runtime.agent.client.call``, which starts it on demand (as Podman starts
aardvark-dns). It listens on a root-only unix socket under the run directory.
"""
