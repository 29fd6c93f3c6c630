"""``run --link NAME[:ALIAS]``: Docker's legacy links on the default bridge.

Expected texts are Docker 20.10's (daemon/links/links.go, the hosts line of
daemon/container_operations.go): ``IP\\tALIAS HOSTNAME NAME``, ``ALIAS_PORT…``,
``ALIAS_NAME=/me/alias``, ``ALIAS_ENV_X``; inspect's ``HostConfig.Links`` is
``/linked:/me/alias``.
"""

from __future__ import annotations

import json

from tests.integration.conftest import error_line


def test_a_link_gives_a_hosts_line_and_the_linked_environment(wharf):
    wharf("run", "-d", "--name", "db", "--expose", "5432", "-e", "SECRET=s1", "busybox",
          "sleep", "300")  # fmt: skip
    db = json.loads(wharf("inspect", "db").stdout)[0]
    ip = db["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
    out = wharf("run", "--name", "me", "--link", "db:data", "busybox", "sh", "-c",
                "cat /etc/hosts; env | sort")  # fmt: skip
    lines = out.stdout.splitlines()
    assert f"{ip}\tdata {db['Id'][:12]} db" in lines
    for var in (
        f"DATA_PORT=tcp://{ip}:5432",
        f"DATA_PORT_5432_TCP=tcp://{ip}:5432",
        f"DATA_PORT_5432_TCP_ADDR={ip}",
        "DATA_PORT_5432_TCP_PORT=5432",
        "DATA_PORT_5432_TCP_PROTO=tcp",
        "DATA_NAME=/me/data",
        "DATA_ENV_SECRET=s1",
    ):
        assert var in lines, (var, out.stdout)
    assert not any(ln.startswith(("DATA_ENV_PATH=", "DATA_ENV_HOME=")) for ln in lines)
    links = json.loads(wharf("inspect", "me").stdout)[0]["HostConfig"]["Links"]
    assert links == ["/db:/me/data"]
    # without an alias the name is the alias, and is not repeated on the hosts line
    out = wharf("run", "--rm", "--link", "db", "busybox", "cat", "/etc/hosts")
    assert f"{ip}\tdb {db['Id'][:12]}" in out.stdout.splitlines()


def test_links_that_docker_refuses(wharf):
    out = wharf("run", "--rm", "--link", "ghost:g", "busybox", "true", check=False)
    assert out.returncode == 125
    assert error_line(out) == (
        "wharf: Error response from daemon: could not get container for ghost: "
        "No such container: ghost."
    )
    assert wharf("ps", "-aq").stdout == ""
    wharf("create", "--name", "idle", "busybox", "true")
    out = wharf("run", "--name", "late", "--link", "idle:i", "busybox", "true", check=False)
    assert out.returncode == 125
    assert error_line(out) == (
        "wharf: Error response from daemon: Cannot link to a non running container: "
        "/idle AS /late/i."
    )
    out = wharf("run", "--rm", "--network", "host", "--link", "idle", "busybox", "true",
                check=False)  # fmt: skip
    assert out.returncode == 125
    assert "host type networking can't be used with links" in error_line(out)


def test_on_a_user_network_the_link_alias_resolves_for_the_linking_container_only(wharf, ip_of):
    wharf("network", "create", "--subnet", "10.238.0.0/24", "linknet")
    wharf("run", "-d", "--name", "pg", "--network", "linknet", "busybox", "sleep", "300")
    pg_ip = ip_of("pg", "linknet")
    out = wharf("run", "--rm", "--network", "linknet", "--link", "pg:database", "busybox",
                "sh", "-c", "nslookup database; echo ---; cat /etc/hosts; env")  # fmt: skip
    looked_up, _, rest = out.stdout.partition("---")
    assert pg_ip in looked_up, out.stdout
    # Docker writes neither a hosts line nor variables for a link on a user network
    assert "database" not in rest.lower(), rest
    other = wharf("run", "--rm", "--network", "linknet", "busybox", "nslookup", "database",
                  check=False)  # fmt: skip
    assert pg_ip not in other.stdout, other.stdout
    assert "NXDOMAIN" in other.stdout + other.stderr or other.returncode != 0
