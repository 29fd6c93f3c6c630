"""``wharf build``: docker build's flags on Wharf's builder."""

from __future__ import annotations

import argparse
import os
import sys

from runtime.errors import InvalidArgument


def register(sub: argparse._SubParsersAction, groups: dict) -> None:
    from runtime.cli.main import management_group

    for parser in (
        sub.add_parser("build", help="build an image from a Dockerfile"),
        management_group(sub, groups, "image", "manage images").add_parser(
            "build", help="build an image from a Dockerfile"
        ),
    ):
        parser.add_argument(
            "context", help="a directory, a tar archive, or - (Dockerfile on stdin)"
        )
        parser.add_argument("-t", "--tag", action="append", default=[])
        parser.add_argument(
            "-f", "--file", help="the Dockerfile (a path from here; default: CONTEXT/Dockerfile)"
        )
        parser.add_argument("--build-arg", action="append", default=[])
        parser.add_argument("--target", default="")
        parser.add_argument("--no-cache", action="store_true")
        parser.add_argument("--pull", action="store_true", help="pull base images first")
        parser.add_argument("--label", action="append", default=[])
        parser.add_argument("--network", default="default")
        parser.add_argument("-q", "--quiet", action="store_true")
        parser.set_defaults(func=_build)


def _build(args: argparse.Namespace) -> int:
    from runtime import Runtime
    from runtime.build.builder import Builder, BuildOptions, pull_bases
    from runtime.cli.main import key_values

    context = args.context
    dockerfile, text = _dockerfile(context, args.file)
    opts = BuildOptions(
        context=context,
        dockerfile=dockerfile,
        dockerfile_text=text,
        tags=args.tag,
        build_args=key_values(args.build_arg, "--build-arg"),
        target=args.target,
        no_cache=args.no_cache,
        labels=key_values(args.label, "--label"),
        network="bridge" if args.network == "default" else args.network,
    )
    say = (lambda line: None) if args.quiet else (lambda line: print(line, flush=True))
    with Runtime() as rt:
        if args.pull:
            pull_bases(rt, opts)
        image = Builder(rt, opts, say).build()
    if args.quiet:
        print(image.id)
    return 0


def _dockerfile(context: str, given: str | None) -> tuple[str, str | None]:
    """Return the Dockerfile's name in the context, or its text when it lies outside.

    As Docker's client: ``-f`` is a path from the current directory (not from
    the context) and may name a file anywhere; inside an archive context it
    names a member.
    """
    if context == "-" or given == "-":
        return "Dockerfile", sys.stdin.read()
    if given is None:
        return "Dockerfile", None
    if not os.path.isdir(context):
        return given, None
    path = os.path.abspath(given)
    root = os.path.realpath(context)
    if os.path.realpath(path).startswith(root + os.sep):
        return os.path.relpath(os.path.realpath(path), root), None
    try:
        with open(path) as f:
            return given, f.read()
    except OSError as exc:
        raise InvalidArgument(f"unable to read the Dockerfile {given}: {exc.strerror}") from None
