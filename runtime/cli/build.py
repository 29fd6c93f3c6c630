"""``wharf build``: docker build's flags on Wharf's builder."""

from __future__ import annotations

import argparse
import sys


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
        parser.add_argument("-f", "--file", default="Dockerfile")
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
    from runtime.build.builder import Builder, BuildOptions
    from runtime.cli.main import key_values

    text = None
    context = args.context
    if context == "-" or args.file == "-":
        text = sys.stdin.read()
    opts = BuildOptions(
        context=context,
        dockerfile=args.file,
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
            _pull_bases(rt, opts, say)
        image = Builder(rt, opts, say).build()
    if args.quiet:
        print(image.id)
    return 0


def _pull_bases(rt, opts, say) -> None:
    """Pull every FROM image that is not a stage or scratch (``--pull``)."""
    from runtime.build.context import Context
    from runtime.build.parser import parse

    if opts.dockerfile_text is not None:
        text = opts.dockerfile_text
    else:
        ctx = Context.open(opts.context, rt.paths.root / "tmp" / "build")
        try:
            text = ctx.dockerfile(opts.dockerfile)
        finally:
            ctx.close()
    names = set()
    for ins in parse(text).instructions:
        if ins.cmd == "FROM":
            words = ins.args.split()
            if words[0] != "scratch" and words[0].lower() not in names:
                rt.images.pull(words[0], progress=lambda *a, **k: None)
            if len(words) == 3:
                names.add(words[2].lower())
