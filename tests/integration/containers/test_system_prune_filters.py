"""``system prune --filter until=… / label=… / label!=…`` as Docker 20.10's.

Each prune (containers, networks, volumes, images) removes only what the filters
let through (moby's daemon/prune.go): created before ``until``, labels matching
every ``label=`` and none of the ``label!=``. The texts are Docker's.
"""

from __future__ import annotations


def _names(wharf) -> set[str]:
    return set(wharf("ps", "-a", "--format", "{{.Names}}").stdout.split())


def test_label_filters_choose_what_is_pruned(wharf):
    wharf("create", "--name", "keepme", "--label", "keep=1", "--network", "none", "busybox")
    wharf("create", "--name", "dropme", "--network", "none", "busybox")
    wharf("network", "create", "--label", "team=a", "neta")
    wharf("network", "create", "netb")
    out = wharf("system", "prune", "-f", "--filter", "label!=keep")
    assert "Deleted Containers:" in out.stdout
    assert _names(wharf) == {"keepme"}
    # netb has no keep label either: it goes; neta too (label!=keep lets it through)
    nets = set(wharf("network", "ls", "--format", "{{.Name}}").stdout.split())
    assert not {"neta", "netb"} & nets
    wharf("network", "create", "--label", "team=a", "neta")
    wharf("network", "create", "netb")
    wharf("system", "prune", "-f", "--filter", "label=team=a")
    nets = set(wharf("network", "ls", "--format", "{{.Name}}").stdout.split())
    assert "netb" in nets and "neta" not in nets
    assert _names(wharf) == {"keepme"}, "keepme has no team=a label"


def test_until_keeps_what_is_newer(wharf):
    wharf("create", "--name", "fresh", "--network", "none", "busybox")
    wharf("system", "prune", "-f", "--filter", "until=1h")  # only what is older than an hour
    assert _names(wharf) == {"fresh"}
    wharf("system", "prune", "-f", "--filter", "until=2000000000")  # a Unix time in 2033
    assert _names(wharf) == set()


def test_prune_filter_refusals_and_the_prompt(wharf):
    out = wharf("system", "prune", "-f", "--volumes", "--filter", "until=1h", check=False)
    assert (out.returncode, out.stderr) == (
        1,
        'ERROR: The "until" filter is not supported with "--volumes"\n',
    )
    out = wharf("system", "prune", "-f", "--filter", "colour=red", check=False)
    assert (out.returncode, out.stderr) == (
        1,
        "Error response from daemon: Invalid filter 'colour'\n",
    )
    out = wharf("system", "prune", "--filter", "label=a=b", "--filter", "until=10m", input="n\n")
    assert out.stdout == (
        "WARNING! This will remove:\n"
        "  - all stopped containers\n"
        "  - all networks not used by at least one container\n"
        "  - all dangling images\n"
        "  - all dangling build cache\n"
        "\n"
        "  Items to be pruned will be filtered with:\n"
        "  - label=a=b\n"
        "  - until=10m\n"
        "\n"
        "Are you sure you want to continue? [y/N] "
    )
