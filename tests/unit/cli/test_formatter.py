"""Docker's formatter (tables through Go's tabwriter, headers, errors) and filter matching."""

from __future__ import annotations

import io

import pytest

from runtime.cli import filters
from runtime.cli.formatter import (
    FormatError,
    as_go,
    compile_format,
    render_inspect,
    tabwrite,
    write_rows,
)
from runtime.cli.govalues import Record

HEADERS = {"ID": "CONTAINER ID", "Names": "NAMES", "State": "STATE"}


def _rows(*names: str) -> list[Record]:
    return [
        Record(
            {"ID": f"{i:012x}", "Names": n, "State": "running"},
            go_type="*formatter.ContainerContext",
        )
        for i, n in enumerate(names)
    ]


def _write(fmt: str, rows: list[Record]) -> str:
    out = io.StringIO()
    write_rows(fmt, rows, HEADERS, out)
    return out.getvalue()


def test_tabwriter_pads_to_widest_plus_three_at_least_ten() -> None:
    assert tabwrite("NAME\tDOCKER ENDPOINT\ndefault\tunix:///var/run/docker.sock\n") == (
        "NAME      DOCKER ENDPOINT\ndefault   unix:///var/run/docker.sock\n"
    )
    assert tabwrite("a\tb\tc\nlong-long-name\tx\ty") == (
        "a                b         c\nlong-long-name   x         y"
    )


def test_tabwriter_column_blocks_end_at_a_line_without_the_cell() -> None:
    assert tabwrite("aaaaaaaaaaaa\tb\nc\nd\te") == "aaaaaaaaaaaa   b\nc\nd         e"


def test_table_format_prints_headers_and_aligned_rows() -> None:
    text = _write("table {{.ID}}\\t{{.Names}}\\t{{.State}}", _rows("web", "a-much-longer-name"))
    assert text == (
        "CONTAINER ID   NAMES                STATE\n"
        "000000000000   web                  running\n"
        "000000000001   a-much-longer-name   running\n"
    )


def test_table_with_no_rows_still_has_its_header() -> None:
    assert _write("table {{.Names}}", []) == "NAMES\n"


def test_header_keeps_column_names_through_functions() -> None:
    assert _write("table {{upper .Names}}\\t{{json .State}}", _rows("x")) == (
        'NAMES     STATE\nX         "running"\n'
    )


def test_plain_and_json_formats() -> None:
    assert _write("{{.Names}}", _rows("a", "b")) == "a\nb\n"
    assert _write("json", _rows("a")) == '{"ID":"000000000000","Names":"a","State":"running"}\n'


def test_errors_are_template_parsing_errors_and_print_nothing() -> None:
    out = io.StringIO()
    with pytest.raises(FormatError) as exc:
        write_rows("{{.Names}} {{.Nope}}", _rows("a"), HEADERS, out)
    assert str(exc.value) == (
        'template parsing error: template: :1:13: executing "" at <.Nope>: '
        "can't evaluate field Nope in type *formatter.ContainerContext"
    )
    assert exc.value.exit_code == 1 and out.getvalue() == ""
    with pytest.raises(FormatError, match='function "nope" not defined'):
        compile_format("{{nope}}")


def test_inspect_objects_are_structs_with_maps_inside() -> None:
    doc = {
        "Config": {"Labels": {"a": "1"}, "Image": "busybox"},
        "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {}}},
    }
    tmpl = compile_format(
        "{{.Config.Labels.b}}|{{.HostConfig.LogConfig.Config.x}}|{{.Config.Labels}}"
    )
    assert render_inspect(tmpl, doc) == "<no value>|<no value>|map[a:1]"
    with pytest.raises(FormatError, match='map has no entry for key "Nope"'):
        render_inspect(compile_format("{{.Config.Nope}}"), doc)
    assert isinstance(as_go(doc)["Config"], Record)


@pytest.mark.parametrize(
    ("pattern", "tag", "matches"),
    [
        ("busybox", "busybox:latest", True),
        ("busybox:latest", "busybox:latest", True),
        ("busybox:1", "busybox:latest", False),
        ("busy*", "busybox:latest", True),
        ("*", "example/tool:1.0", False),
        ("example/*", "example/tool:1.0", True),
        ("example/*:2.*", "example/tool:1.0", False),
        ("localhost:5000/app", "localhost:5000/app:v1", True),
        ("docker.io/library/busybox", "busybox:latest", True),
    ],
)
def test_reference_filter_is_dockers_familiar_match(pattern: str, tag: str, matches: bool) -> None:
    assert filters.reference_matches(pattern, tag) is matches


def test_filter_keys_are_checked() -> None:
    assert filters.parse(["label=a=b", "label=c"], filters.PS_KEYS) == {"label": ["a=b", "c"]}
    with pytest.raises(filters.InvalidFilter, match="Invalid filter 'colour'") as exc:
        filters.parse(["colour=red"], filters.PS_KEYS)
    assert exc.value.exit_code == 1


def test_a_header_that_fails_keeps_what_it_printed() -> None:
    rows = [
        Record(
            {"Names": "web"},
            go_type="*formatter.ContainerContext",
            methods={"Label": {"team": "a"}.get},
        )
    ]
    assert _write('table {{.Names}}\\t{{.Label "team"}}', rows) == "NAMES     \nweb       a\n"


def test_ports_are_grouped_as_dockers_displayable_ports() -> None:
    from runtime.cli.containers import format_ports

    same = {f"{p}/tcp": [{"HostIp": "0.0.0.0", "HostPort": str(p)}] for p in (8000, 8001, 8002)}
    exposed = {"53/udp": None, "9000/tcp": None, "9001/tcp": None, "9005/tcp": None}
    mapped = {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}
    # a group broken by a gap is written at once, before the groups still open (as Docker)
    assert format_ports({**same, **exposed, **mapped}) == (
        "9000-9001/tcp, 53/udp, 0.0.0.0:8000-8002->8000-8002/tcp, 9005/tcp, 0.0.0.0:8080->80/tcp"
    )


def test_null_slices_and_maps_print_as_gos_nil_ones() -> None:
    doc = {"Config": {"Entrypoint": None, "Labels": None, "Healthcheck": None, "Cmd": ["sh"]}}
    tmpl = compile_format(
        "{{.Config.Entrypoint}} {{.Config.Labels}} {{.Config.Healthcheck}} {{.Config.Cmd}} "
        "{{json .Config.Entrypoint}} {{json .Config.Labels}} {{.Config.Labels.x}} {{len .Config.Entrypoint}}"
    )
    assert render_inspect(tmpl, doc) == "[] map[] <nil> [sh] null null <no value> 0"


def test_healthcheck_durations_print_as_go_durations() -> None:
    doc = {
        "Config": {
            "Healthcheck": {"Test": ["CMD", "true"], "Interval": 90 * 10**9, "Timeout": 2 * 10**9}
        }
    }
    tmpl = compile_format(
        "{{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Timeout}} {{json .Config.Healthcheck}}"
    )
    assert render_inspect(tmpl, doc) == (
        '1m30s 2s {"Test":["CMD","true"],"Interval":90000000000,"Timeout":2000000000}'
    )
