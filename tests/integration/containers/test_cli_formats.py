"""``--format`` templates and ``--filter``s through the real CLI, on real containers.

Expected texts are Docker 20.10's for the same commands (Go's text/template, Docker's
formatter and tabwriter).
"""

from __future__ import annotations

import json


def _lines(proc) -> list[str]:
    return proc.stdout.splitlines()


def test_ps_templates_render_go_values_and_docker_keys(wharf) -> None:
    wharf(
        "run",
        "-d",
        "--name",
        "web",
        "--label",
        "team=a",
        "--label",
        "app=x",
        "busybox",
        "sleep",
        "60",
    )
    out = wharf(
        "ps",
        "--format",
        '{{.Names}}|{{.Label "team"}}|{{upper .State}}|{{len .ID}}|{{json .Command}}'
        '{{range split .Labels ","}} [{{.}}]{{end}}',
    ).stdout
    assert out == 'web|a|RUNNING|12|"\\"sleep 60\\""' + " [team=a] [app=x]\n"
    row = json.loads(wharf("ps", "--format", "{{json .}}").stdout)
    assert sorted(row) == [
        "Command",
        "CreatedAt",
        "ID",
        "Image",
        "Labels",
        "LocalVolumes",
        "Mounts",
        "Names",
        "Networks",
        "Ports",
        "RunningFor",
        "Size",
        "State",
        "Status",
    ]
    assert row["Names"] == "web" and row["Networks"] == "bridge"
    assert row["CreatedAt"].endswith(" +0000 UTC")
    as_json = json.loads(wharf("ps", "--format", "json").stdout)
    assert as_json["ID"] == row["ID"] and sorted(as_json) == sorted(row)


def test_ps_table_has_dockers_headers_and_columns(wharf) -> None:
    wharf("run", "-d", "--name", "a-rather-long-container-name", "busybox", "sleep", "60")
    lines = _lines(wharf("ps", "--format", "table {{.ID}}\t{{.Names}}\t{{.State}}"))
    assert lines[0] == "CONTAINER ID   NAMES                          STATE"
    assert lines[1].split()[1:] == ["a-rather-long-container-name", "running"]
    assert lines[1].index("running") == lines[0].index("STATE")
    default = _lines(wharf("ps"))
    # widths: max(10, widest + 3); the last column is not padded
    assert default[0].startswith("CONTAINER ID   IMAGE     COMMAND      CREATED")
    assert default[0].endswith("   NAMES") and default[1].endswith(
        "   a-rather-long-container-name"
    )


def test_template_errors_are_docker_errors(wharf) -> None:
    wharf("run", "-d", "--name", "t", "busybox", "sleep", "60")
    bad = wharf("ps", "--format", "{{.Nope}}", check=False)
    assert bad.returncode == 1 and bad.stdout == ""
    assert (
        'template parsing error: template: :1:2: executing "" at <.Nope>: '
        "can't evaluate field Nope in type *formatter.ContainerContext"
    ) in bad.stderr
    unknown = wharf("ps", "--format", "{{nope .ID}}", check=False)
    assert unknown.returncode == 1
    assert 'template parsing error: template: :1: function "nope" not defined' in unknown.stderr
    missing = wharf("inspect", "-f", "{{.Config.Nope}}", "t", check=False)
    assert missing.returncode == 1
    assert 'map has no entry for key "Nope"' in missing.stderr


def test_inspect_templates_and_kinds(wharf) -> None:
    wharf("network", "create", "--label", "k=v", "frontnet")
    wharf("volume", "create", "--label", "team=a", "data")
    wharf(
        "run",
        "-d",
        "--name",
        "box",
        "--label",
        "team=a",
        "-e",
        "A=1",
        "-v",
        "data:/data",
        "busybox",
        "sleep",
        "60",
    )
    assert wharf("inspect", "-f", "{{.Config.Labels}}", "box").stdout == "map[team:a]\n"
    assert wharf("inspect", "-f", '{{index .Config.Labels "team"}}', "box").stdout == "a\n"
    assert wharf("inspect", "-f", "{{json .Config.Labels}}", "box").stdout == '{"team":"a"}\n'
    assert wharf("inspect", "-f", "{{.Config.Labels.nope}}", "box").stdout == "<no value>\n"
    mounts = wharf("inspect", "-f", "{{range .Mounts}}{{.Name}}:{{.Destination}} {{end}}", "box")
    assert mounts.stdout == "data:/data \n"
    assert wharf("inspect", "-f", "{{.Name}} {{.Driver}}", "frontnet").stdout == "frontnet bridge\n"
    assert wharf("inspect", "-f", "{{.Name}} {{.Labels}}", "data").stdout == "data map[team:a]\n"
    assert wharf("inspect", "--type", "volume", "-f", "{{.Driver}}", "data").stdout == "local\n"
    assert wharf("volume", "inspect", "-f", "{{.Mountpoint}}", "data").stdout.endswith("/_data\n")
    assert wharf("network", "inspect", "-f", "{{.Labels.k}}", "frontnet").stdout == "v\n"
    nothing = wharf("inspect", "--type", "network", "box", check=False)
    assert nothing.returncode == 1 and "No such network: box" in nothing.stderr
    assert "No such object: zz" in wharf("inspect", "zz", check=False).stderr


def test_network_and_volume_ls_formats(wharf) -> None:
    wharf("network", "create", "a-network-with-a-long-name")
    wharf("volume", "create", "--label", "team=a", "v1")
    names = _lines(wharf("network", "ls", "--format", "{{.Name}}:{{.Driver}}"))
    assert "a-network-with-a-long-name:bridge" in names
    table = _lines(wharf("network", "ls"))
    assert table[0].split("   ")[0] == "NETWORK ID"
    long_row = next(line for line in table if "a-network-with-a-long-name" in line)
    assert "a-network-with-a-long-name   bridge" in long_row
    assert wharf("volume", "ls", "--format", '{{.Name}} {{.Label "team"}}').stdout == "v1 a\n"
    assert _lines(wharf("volume", "ls")) == ["DRIVER    VOLUME NAME", "local     v1"]
    assert wharf("volume", "ls", "-f", "driver=local", "--format", "{{.Name}}").stdout == "v1\n"
    assert wharf("volume", "ls", "-f", "driver=nfs", "-q").stdout == ""
    bad = wharf("volume", "ls", "-f", "colour=red", check=False)
    assert bad.returncode == 1 and "Invalid filter 'colour'" in bad.stderr


def test_ps_filters(wharf) -> None:
    wharf("network", "create", "backnet")
    wharf("volume", "create", "vol")
    wharf("run", "-d", "--name", "first", "--label", "tier=db", "busybox", "sleep", "60")
    wharf(
        "run",
        "-d",
        "--name",
        "second",
        "--network",
        "backnet",
        "-v",
        "vol:/v",
        "-p",
        "8080:80",
        "--expose",
        "9000",
        "busybox",
        "sleep",
        "60",
    )
    wharf("run", "--name", "done", "busybox", "sh", "-c", "exit 3", check=False)
    wharf("run", "-d", "--name", "third", "busybox", "sleep", "60")

    def names(*flags: str) -> list[str]:
        return _lines(wharf("ps", *flags, "--format", "{{.Names}}"))

    assert names("-f", "network=backnet") == ["second"]
    assert names("-f", "volume=vol") == ["second"]
    assert names("-f", "volume=/v") == ["second"]
    assert names("-f", "publish=80") == ["second"]
    assert names("-f", "publish=8000-8100/tcp") == []
    assert names("-f", "expose=9000") == ["second"]
    assert names("-f", "label=tier=db") == ["first"]
    assert names("-f", "health=none") == ["third", "second", "first"]
    assert names("-f", "health=healthy") == []
    assert names("-f", "ancestor=busybox") == ["third", "second", "first"]
    assert names("-f", "before=second") == ["first"]
    assert names("-f", "since=second") == ["third"]
    assert names("-a", "-f", "exited=3") == ["done"]
    assert names("-f", "status=exited") == ["done"]
    assert names("-n", "2") == ["third", "done"]
    assert names("-l") == ["third"]
    bad = wharf("ps", "-f", "colour=red", check=False)
    assert bad.returncode == 1 and "Invalid filter 'colour'" in bad.stderr
    no_ref = wharf("ps", "-f", "before=nobody", check=False)
    assert no_ref.returncode == 1 and "No such container: nobody" in no_ref.stderr
    bad_status = wharf("ps", "-f", "status=sleepy", check=False)
    assert bad_status.returncode == 1 and "Invalid filter 'status=sleepy'" in bad_status.stderr


def test_images_match_references_not_every_tag(wharf) -> None:
    wharf("tag", "busybox", "example/tool:1.0")
    wharf("tag", "busybox", "example/tool:2.0")

    def refs(*args: str) -> list[str]:
        return _lines(wharf("images", *args, "--format", "{{.Repository}}:{{.Tag}}"))

    assert refs("busybox") == ["busybox:latest"]
    assert sorted(refs("example/tool")) == ["example/tool:1.0", "example/tool:2.0"]
    assert refs("example/tool:1.0") == ["example/tool:1.0"]
    assert sorted(refs("-f", "reference=example/*:2.*")) == ["example/tool:2.0"]
    assert refs("-f", "reference=nothing*") == []
    assert refs("-f", "dangling=true") == []
    wharf("run", "--name", "maker", "busybox", "true")
    wharf("commit", "-c", "LABEL stage=two", "maker", "second:v1")
    assert refs("-f", "since=busybox") == ["second:v1"]
    assert sorted(refs("-f", "before=second:v1")) == [
        "busybox:latest",
        "example/tool:1.0",
        "example/tool:2.0",
    ]
    assert refs("-f", "label=stage=two") == ["second:v1"]
    assert refs("-f", "label=stage") == ["second:v1"]
    # ps -f ancestor= follows the images' parents (second:v1 was committed on busybox)
    wharf("run", "-d", "--name", "child", "second:v1", "sleep", "60")
    for ancestor in ("busybox", "second:v1"):
        out = wharf("ps", "-f", f"ancestor={ancestor}", "--format", "{{.Names}}").stdout
        assert out == "child\n"
    table = _lines(wharf("images", "busybox"))
    assert table[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert table[0].startswith("REPOSITORY   TAG       IMAGE ID       CREATED")
    bad = wharf("images", "-f", "colour=red", check=False)
    assert bad.returncode == 1 and "Invalid filter 'colour'" in bad.stderr


def test_other_verbs_take_go_templates(wharf) -> None:
    from runtime.hostinfo import wharf_version

    wharf("run", "-d", "--name", "s", "busybox", "sleep", "60")
    assert wharf("version", "-f", "{{.Server.Version}}").stdout == wharf_version() + "\n"
    assert wharf("info", "-f", "{{.ContainersRunning}} {{.OSType}}").stdout == "1 linux\n"
    stats = wharf("stats", "--no-stream", "--format", "{{.Name}} {{len .PIDs}}").stdout
    assert stats == "s 1\n"
    history = _lines(wharf("history", "--format", "table {{.ID}}\t{{.Size}}", "busybox"))
    assert history[0].startswith("IMAGE") and "SIZE" in history[0]
    bad = wharf("history", "--format", "{{.Nope}}", "busybox", check=False)
    assert bad.returncode == 1 and "can't evaluate field Nope" in bad.stderr


def test_events_take_go_templates(wharf) -> None:
    import time

    start = time.time() - 1
    wharf("run", "--name", "ev", "busybox", "true")
    out = wharf(
        "events",
        "--since",
        str(start),
        "--until",
        str(time.time()),
        "--filter",
        "type=container",
        "--format",
        "{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.nope}}",
    ).stdout
    assert "container create ev <no value>" in out.splitlines()
    bad = wharf(
        "events",
        "--since",
        str(start),
        "--until",
        str(time.time()),
        "--format",
        "{{.Nope}}",
        check=False,
    )
    assert bad.returncode == 1 and "can't evaluate field Nope in type events.Message" in bad.stderr
