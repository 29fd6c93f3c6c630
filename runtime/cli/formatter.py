"""Docker's ``--format`` machinery: list formats, tables, and inspect templates.

A list verb (``ps``, ``images``, ``network ls``, ...) hands ``write_rows`` one
``Record`` per row (Docker's formatter context: its fields, its ``go_type`` for
error texts, ``Label`` and such as methods) and the column names of its fields.
``table …`` formats get a header made by running the same template on those
names, and every line goes through Go's tabwriter as Docker sets it up
(minwidth 10, padding 3), so columns are at least Docker's widths and never
touch. ``inspect`` verbs run a template on each object (``render_inspect``).

A template that does not parse or fails is Docker's ``template parsing error:
…`` with exit status 1, and nothing of the listing is printed.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from runtime.cli.errors import client_error
from runtime.cli.gotemplate import HEADER_FUNCS, Template, TemplateError, parse
from runtime.cli.govalues import GoDuration, NilMap, NilSlice, Record
from runtime.errors import WharfError


class FormatError(WharfError):
    """A ``--format`` template that does not parse or fails on an object (Docker: exit 1)."""

    exit_code = 1
    kind = "invalid_argument"


def template_text(fmt: str) -> str:
    """Docker's ``Format.templateString``: ``json`` is ``{{json .}}``; ``table`` dropped; ``\\t`` a tab."""
    if fmt == "table":
        return ""
    if fmt == "json":
        return "{{json .}}"
    text = fmt.removeprefix("table")
    text = text.strip(" ")
    return text.replace("\\t", "\t").replace("\\n", "\n")


def is_table(fmt: str) -> bool:
    return fmt.startswith("table")


def compile_format(fmt: str, funcs: dict[str, Callable[..., Any]] | None = None) -> Template:
    """Parse a ``--format`` value, or fail as Docker does."""
    try:
        return parse(template_text(fmt), funcs)
    except TemplateError as exc:
        raise FormatError(f"template parsing error: {exc}") from None


def execute(tmpl: Template, data: Any) -> str:
    """Run a parsed template on one object, or fail as Docker does."""
    try:
        return tmpl.execute(data)
    except TemplateError as exc:
        raise FormatError(f"template parsing error: {exc}") from None


def write_rows(
    fmt: str,
    rows: Iterable[Record],
    headers: dict[str, str],
    out: TextIO | None = None,
) -> None:
    """Print rows through ``fmt`` as Docker's ``formatter.Context.Write`` does."""
    out = out or sys.stdout
    tmpl = compile_format(fmt)
    text = "".join(execute(tmpl, row) + "\n" for row in rows)
    if not is_table(fmt):
        out.write(text)
        return
    try:
        header = tmpl.execute(headers, HEADER_FUNCS)
    except TemplateError as exc:
        # Docker ignores a header that fails (``.Label "x"`` on the names) after
        # printing what it made up to there
        header = exc.partial
    out.write(tabwrite(header + "\n" + text))


def quiet_or(fmt: str | None, quiet: bool, default_table: str) -> str:
    """The format a list verb uses: ``-q`` → ``{{.ID}}``, none or ``table`` → its default table."""
    if quiet:
        return "{{.ID}}"
    if fmt in (None, "", "table"):
        return default_table
    return fmt


# --- Go's text/tabwriter, as docker/cli sets it up -------------------------------------


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def tabwrite(text: str, minwidth: int = 10, padding: int = 3) -> str:
    """Align tab-terminated cells into columns as Go's elastic tabstops do.

    A column block is a run of consecutive lines that have a cell in that column;
    its width is the widest cell plus ``padding``, at least ``minwidth``. Text after
    a line's last tab is not a cell and is never padded.
    """
    lines = [line.split("\t") for line in text.split("\n")]
    widths: list[int] = []
    out: list[str] = []

    def write_lines(line0: int, line1: int) -> None:
        for i in range(line0, line1):
            parts = []
            for j, cell in enumerate(lines[i]):
                parts.append(cell)
                if j < len(widths):
                    parts.append(" " * (widths[j] - _width(cell)))
            out.append("".join(parts))

    def block(line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, _width(lines[this][column]) + padding)
                this += 1
            widths.append(width)
            block(line0, this)
            widths.pop()
            line0 = this
        write_lines(line0, line1)

    block(0, len(lines))
    return "\n".join(out)


# --- inspect ----------------------------------------------------------------------------

#: Fields whose JSON objects are Go maps in Docker's types (a missing key is
#: ``<no value>``); every other object is a struct (a missing field is an error).
MAP_FIELDS = frozenset(
    {
        "Labels",
        "Options",
        "ExposedPorts",
        "Volumes",
        "PortBindings",
        "Ports",
        "Networks",
        "Containers",
        "DriverOpts",
        "Status",
        "Sysctls",
        "StorageOpt",
        "Tmpfs",
        "Data",
        "Attributes",
        "Annotations",
        "Runtimes",
    }
)


#: Fields whose ``null`` is a Go nil slice in Docker's types (printed ``[]``).
SLICE_FIELDS = frozenset(
    {
        "Aliases",
        "Args",
        "Binds",
        "BlkioDeviceReadBps",
        "BlkioDeviceReadIOps",
        "BlkioDeviceWriteBps",
        "BlkioDeviceWriteIOps",
        "BlkioWeightDevice",
        "CapAdd",
        "CapDrop",
        "Cmd",
        "Devices",
        "DeviceCgroupRules",
        "DeviceRequests",
        "Dns",
        "DnsOptions",
        "DnsSearch",
        "Entrypoint",
        "Env",
        "ExtraHosts",
        "GroupAdd",
        "Layers",
        "Links",
        "MaskedPaths",
        "Mounts",
        "OnBuild",
        "ReadonlyPaths",
        "RepoDigests",
        "RepoTags",
        "SecurityOpt",
        "Shell",
        "Ulimits",
        "VolumesFrom",
        "Warnings",
    }
)


#: Fields that are Go ``time.Duration``s (nanoseconds in JSON, ``1m30s`` in a template).
DURATION_FIELDS = frozenset({"Interval", "Timeout", "StartPeriod", "StartInterval"})


#: Fields Docker's JSON leaves out when empty (``omitempty``), by the struct holding
#: them, with the zero value a template sees in Docker's typed struct.
OMITTED_WHEN_EMPTY = {
    "HostConfig": {"Tmpfs": None, "Sysctls": None, "Init": None, "Mounts": None},
    "Config": {
        "ExposedPorts": None,
        "Healthcheck": None,
        "StopSignal": "",
        "StopTimeout": None,
        "Shell": None,
        "MacAddress": "",
        "ArgsEscaped": False,
        "NetworkDisabled": False,
    },
}


def as_go(value: Any, key: str = "", parent: str = "") -> Any:
    """Decoded inspect JSON as the Go values Docker's templates see (structs and maps)."""
    if key in DURATION_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        return GoDuration(value)
    if value is None:
        if key in MAP_FIELDS:
            return NilMap()
        return NilSlice() if key in SLICE_FIELDS else None
    if isinstance(value, dict) and not isinstance(value, Record):
        is_map = key in MAP_FIELDS or (key == "Config" and parent == "LogConfig")
        items = {k: as_go(v, "" if is_map else k, key) for k, v in value.items()}
        if is_map:
            return items
        # a field Docker's JSON left out: a template still reads its zero value, and
        # {{json .}} still leaves it out (so it is offered as a method, not a field)
        zeros = {
            name: (lambda zero=zero, name=name: as_go(zero, name, key))
            for name, zero in OMITTED_WHEN_EMPTY.get(key, {}).items()
            if name not in items
        }
        return Record(items, methods=zeros)
    if isinstance(value, list):
        return [as_go(v, "", key) for v in value]
    return value


def render_inspect(tmpl: Template, obj: dict) -> str:
    """One object through an inspect template (Docker's ``TemplateInspector``)."""
    return execute(tmpl, as_go(obj))


def print_inspected(objects: list[dict], errors: list[str], fmt: str | None) -> int:
    """Print inspect results as Docker does (indented JSON, or a template per object).

    Objects that were not found, and templates that fail on an object, are one
    ``Error: …`` line each on stderr and exit status 1.
    """
    errors = list(errors)
    if fmt in (None, "", "json"):
        import json

        print(json.dumps(objects, indent=4))
    else:
        tmpl = compile_format(fmt)
        for obj in objects:
            try:
                print(render_inspect(tmpl, obj))
            except FormatError as exc:
                errors.append(str(exc))
    for message in errors:
        client_error(message)
    return 1 if errors else 0
