"""Entry point of the ``wharf`` command.

Each group of verbs lives in its own module under ``runtime.cli`` and exposes
``register(subparsers)``, adding its top-level verbs (``run``, ``pull``) and its
management-command forms (``container ls``, ``image rm``). Command modules only
build parsers at import time; they import the heavy parts of the runtime inside
the handler, so ``wharf run`` never pays for ``import pyroute2`` or ``httpx``
unless it needs them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from runtime.cli.errors import command_error, run_error
from runtime.errors import WharfError

COMMAND_MODULES = (
    "runtime.cli.system",
    "runtime.cli.images",
    "runtime.cli.containers",
    "runtime.cli.networks",
    "runtime.cli.volumes",
    "runtime.cli.build",
)


#: Which command modules a top-level verb needs. Building every module's parser
#: costs tens of milliseconds (argparse formats and translates each help text),
#: so a known verb builds only its own; anything else builds them all.
VERB_MODULES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        (
            "run",
            "create",
            "start",
            "stop",
            "restart",
            "kill",
            "pause",
            "unpause",
            "rm",
            "wait",
            "logs",
            "exec",
            "attach",
            "ps",
            "inspect",
            "top",
            "stats",
            "rename",
            "commit",
            "export",
            "cp",
            "update",
            "diff",
        ),
        ("runtime.cli.containers",),
    ),
    "container": ("runtime.cli.containers", "runtime.cli.networks"),  # container port
    **dict.fromkeys(
        (
            "images",
            "pull",
            "push",
            "tag",
            "rmi",
            "history",
            "save",
            "load",
            "import",
            "login",
            "logout",
        ),
        ("runtime.cli.images",),
    ),
    "image": ("runtime.cli.images", "runtime.cli.build"),
    "build": ("runtime.cli.build",),
    "volume": ("runtime.cli.volumes",),
    "network": ("runtime.cli.networks",),
    "port": ("runtime.cli.networks",),
    "info": ("runtime.cli.system",),
    "events": ("runtime.cli.system",),
    "system": ("runtime.cli.system",),
    "version": ("runtime.cli.system",),
}


#: parsers already built, by the command modules they hold (see warm_parsers)
_PARSERS: dict[tuple[str, ...], argparse.ArgumentParser] = {}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """Assemble the parser from the command modules the verb in ``argv`` needs (all if unknown)."""
    verb = next((a for a in argv or () if not a.startswith("-")), None)
    modules = VERB_MODULES.get(verb or "", COMMAND_MODULES)
    if modules not in _PARSERS:
        _PARSERS[modules] = _assemble(modules)
    return _PARSERS[modules]


def warm_parsers() -> None:
    """Build every verb's parser now (the fork server does, so its children need not)."""
    for modules in {*VERB_MODULES.values(), COMMAND_MODULES}:
        if modules not in _PARSERS:
            _PARSERS[modules] = _assemble(modules)


def _assemble(modules: Sequence[str]) -> argparse.ArgumentParser:
    from runtime.cli.usage import UsageParser

    parser = UsageParser(prog="wharf", description="Wharf: run containers like Docker.")
    parser.add_argument("--root", help="state directory (default $WHARF_ROOT or /var/lib/wharf)")
    parser.add_argument(
        "--run-dir", help="volatile state directory (default $WHARF_RUN or /run/wharf)"
    )
    parser.add_argument(
        "-v", "--version", action=_VersionAction, help="print version information and quit"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    groups: dict[str, argparse._SubParsersAction] = {}
    for name in modules:
        importlib.import_module(name).register(sub, groups)
    return parser


class _VersionAction(argparse.Action):
    """``wharf --version``: one line, as ``docker --version`` prints it."""

    def __init__(self, option_strings: list[str], dest: str, **kw: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help=kw.get("help"))  # type: ignore[arg-type]

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from runtime.hostinfo import wharf_version

        print(f"Wharf version {wharf_version()}")
        parser.exit(0)


def key_values(items: list[str] | None, flag: str) -> dict[str, str]:
    """Parse repeated ``KEY=VALUE`` flags (``--label``, ``--opt``, ``--build-arg``)."""
    out = {}
    for item in items or []:
        key, _, value = item.partition("=")
        if not key:
            raise WharfError(f"invalid {flag} {item!r}: expected KEY=VALUE")
        out[key] = value
    return out


def management_group(
    sub: argparse._SubParsersAction,
    groups: dict[str, argparse._SubParsersAction],
    name: str,
    help_text: str,
) -> argparse._SubParsersAction:
    """Return the sub-verb table of a management command (``image``, ``container``), made once."""
    if name not in groups:
        p = sub.add_parser(name, help=help_text)
        groups[name] = p.add_subparsers(dest=f"{name}_command", metavar="COMMAND")
        p.set_defaults(func=lambda args, _p=p: _p.print_help() or 0)
    return groups[name]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one wharf command; errors become one line on stderr and Docker's exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.root:
        os.environ["WHARF_ROOT"] = args.root
    if args.run_dir:
        os.environ["WHARF_RUN"] = args.run_dir
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 0
    try:
        code = func(args)
    except WharfError as exc:
        # run's and create's refusals name the verb (see cmd_run) and exit 125 (126/127
        # for a command that cannot run); every other verb's error is the line as it is,
        # with Docker's client's 1 unless the error carries its own code
        stage = getattr(args, "error_stage", None)
        if stage:
            run_error(exc, args.error_verb, with_help=stage == "create")
            return exc.exit_code
        command_error(exc, getattr(args, "missing_said_by_client", False))
        return 1 if exc.exit_code == WharfError.exit_code else exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (``| head``): end quietly, and keep Python's flush of
        # stdout at exit from failing on the same closed pipe
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
