"""Image verbs of the ``wharf`` CLI, shaped like docker's.

``images``, ``pull``, ``push``, ``tag``, ``rmi``, ``history``, ``save``,
``load``, ``import``, ``login``, ``logout`` and the ``image …`` management
forms (``ls``, ``inspect``, ``rm``, ``prune``, ...). Each handler is one call on
``runtime.images``; the registry module (and httpx) is imported only by the
verbs that talk to a registry.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from runtime.cli.errors import command_error
from runtime.cli.main import management_group
from runtime.timefmt import rfc3339_ns


def _runtime() -> Any:
    from runtime import Runtime

    return Runtime()


def _progress(quiet: bool) -> Any:
    from runtime.images.progress import for_stream

    return for_stream(sys.stdout, quiet)


def _since(created: str) -> str:
    """Return Docker's "N units ago" for an RFC 3339 time (go-units' HumanDuration)."""
    try:
        when = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return "N/A"
    return human_duration((dt.datetime.now(dt.UTC) - when).total_seconds()) + " ago"


def human_duration(secs: float) -> str:
    """Word a duration as Docker does (``Less than a second``, ``About an hour``, ``3 weeks``)."""
    seconds = int(secs)
    minutes = int(secs / 60)
    hours = int(secs / 3600 + 0.5)
    if seconds < 1:
        return "Less than a second"
    if seconds == 1:
        return "1 second"
    if seconds < 60:
        return f"{seconds} seconds"
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(secs / 3600) // 24 // 365} years"


def _size(n: int) -> str:
    from runtime.images.progress import human_size

    return human_size(n)


def _table(rows: list[list[str]], headers: list[str], minwidth: int = 10) -> None:
    """Print columns as Docker's tabwriter does (at least ``minwidth`` wide, 3 apart)."""
    from runtime.cli.formatter import tabwrite

    print(tabwrite("\n".join("\t".join(r) for r in [headers, *rows]), minwidth))


def _split_tag(ref: str) -> tuple[str, str]:
    name, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag:
        return ref, "<none>"
    return name, tag


# --- handlers ------------------------------------------------------------------------


def cmd_images(args: argparse.Namespace) -> int:
    from runtime.cli import filters, formatter, listings
    from runtime.errors import ImageNotFound

    flt = filters.parse(args.filter, filters.IMAGE_KEYS)
    patterns = flt.get("reference", []) + ([args.reference] if args.reference else [])
    dangling = None
    for value in flt.get("dangling", []):
        if value.lower() not in ("true", "false", "1", "0"):
            raise filters.InvalidFilter(f"Invalid filter 'dangling={value}'")
        dangling = value.lower() in ("true", "1")
    with _runtime() as rt:
        images = rt.images.list(all=args.all, dangling=dangling)
        bounds = {}
        for key in ("before", "since"):
            if key in flt:
                try:
                    bounds[key] = rfc3339_ns(rt.images.get(flt[key][-1]).created)
                except ImageNotFound as exc:
                    raise filters.InvalidFilter(str(exc)) from None
    rows = []
    for img in images:
        # by time, not text: a record's time has nine digits, inspect's is trimmed as Go's
        created = rfc3339_ns(img.created)
        if "before" in bounds and not created < bounds["before"]:
            continue
        if "since" in bounds and not created > bounds["since"]:
            continue
        labels = (img.config.get("config") or {}).get("Labels")
        if "label" in flt and not filters.label_matches(labels, flt["label"]):
            continue
        tags = img.repo_tags
        if patterns:
            # as Docker: only the names that match, and no image without one
            tags = [t for t in tags if any(filters.reference_matches(p, t) for p in patterns)]
            if not tags:
                continue
        pairs = [_split_tag(t) for t in tags] or [("<none>", "<none>")]
        digests = {d.split("@")[0]: d.split("@")[1] for d in img.repo_digests}
        for repo, tag in pairs:
            rows.append((img, repo, tag, digests.get(repo, "<none>")))
    if args.quiet:
        seen = []
        for img, *_ in rows:
            ident = img.id if args.no_trunc else img.short_id
            if ident not in seen:
                seen.append(ident)
        print("\n".join(seen)) if seen else None
        return 0
    default = listings.IMAGE_TABLE_DIGESTS if args.digests else listings.IMAGE_TABLE
    formatter.write_rows(
        formatter.quiet_or(args.format, False, default),
        [
            listings.image_row(
                img,
                repo,
                tag,
                digest,
                trunc=not args.no_trunc,
                since=_since(img.created),
                size=_size(img.size),
            )
            for img, repo, tag, digest in rows
        ],
        listings.IMAGE_HEADERS,
    )
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        image = rt.images.pull(args.name, platform=args.platform, progress=_progress(args.quiet))
    if args.quiet:
        print(image.repo_tags[0] if image.repo_tags else image.id)
    else:
        print(_full_name(args.name))
    return 0


def _full_name(name: str) -> str:
    from runtime.images.reference import parse_reference

    ref = parse_reference(name)
    return f"{ref.full_name}@{ref.digest}" if ref.digest else f"{ref.full_name}:{ref.tag}"


def cmd_push(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        digest = rt.images.push(args.name, progress=_progress(args.quiet))
    if args.quiet:
        print(digest)
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        rt.images.tag(args.source, args.target)
    return 0


def cmd_rmi(args: argparse.Namespace) -> int:
    from runtime.errors import WharfError

    failed = 0
    with _runtime() as rt:
        for name in args.images:
            try:
                result = rt.images.remove(name, force=args.force, prune_parents=not args.no_prune)
            except WharfError as exc:
                command_error(exc, missing_said_by_client=True)
                failed = 1
                continue
            for entry in result:
                for key, value in entry.items():
                    print(f"{key}: {value}")
    return failed


def cmd_inspect(args: argparse.Namespace) -> int:
    from runtime.errors import ImageNotFound

    with _runtime() as rt:
        return inspect_each(args.images, rt.images.inspect, ImageNotFound, "image", args.format)


def inspect_each(
    refs: list[str], inspect: Any, missing_error: type, kind: str, fmt: str | None
) -> int:
    """Inspect each ref; print the found ones as docker does and an error line per missing
    one, worded by the client as Docker's (``Error: No such network: x``)."""
    from runtime.cli.formatter import print_inspected

    out, missing = [], []
    for ref in refs:
        try:
            out.append(inspect(ref))
        except missing_error:
            missing.append(f"No such {kind}: {ref}")
    return print_inspected(out, missing, fmt)


def _local_rfc3339(created: str) -> str:
    """An RFC 3339 time in this machine's zone, whole seconds, as Go's time.RFC3339 prints it."""
    try:
        when = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return created
    text = when.astimezone().replace(microsecond=0).isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def cmd_history(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        entries = rt.images.history(args.image)

    def since(e: dict) -> str:
        return _since(e["Created"]) if args.human else _local_rfc3339(e["Created"])

    def size(e: dict) -> str:
        return _size(e["Size"]) if args.human else str(e["Size"])

    if args.format != "table":
        from runtime.cli import formatter, listings

        rows = [
            listings.plain_row(
                {
                    "CreatedAt": _local_rfc3339(e["Created"]),
                    "CreatedBy": e["CreatedBy"],
                    "CreatedSince": since(e),
                    "Comment": e["Comment"],
                    "ID": e["Id"],
                    "Size": size(e),
                },
                "*image.historyContext",
            )
            for e in entries
        ]
        formatter.write_rows(args.format, rows, listings.HISTORY_HEADERS)
        return 0
    if args.quiet:
        for e in entries:
            print(
                e["Id"]
                if args.no_trunc or e["Id"] == "<missing>"
                else e["Id"].removeprefix("sha256:")[:12]
            )
        return 0
    rows = []
    for e in entries:
        ident = (
            e["Id"]
            if args.no_trunc or e["Id"] == "<missing>"
            else e["Id"].removeprefix("sha256:")[:12]
        )
        created_by = e["CreatedBy"]
        if not args.no_trunc and len(created_by) > 45:
            created_by = created_by[:44] + "…"
        rows.append([ident, since(e), created_by, size(e), e["Comment"]])
    _table(rows, ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"])
    return 0


def cmd_save(args: argparse.Namespace) -> int:
    import os
    import tempfile
    from pathlib import Path

    from runtime.errors import InvalidArgument

    with _runtime() as rt:
        if not args.output:
            if sys.stdout.isatty():
                raise InvalidArgument("cowardly refusing to save to a terminal; use -o FILE")
            rt.images.save(args.images, sys.stdout.buffer)
            return 0
        dest = Path(args.output)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent or ".")
        try:
            with os.fdopen(fd, "wb") as out:
                rt.images.save(args.images, out)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from pathlib import Path

    from runtime.images.progress import LineProgress, ignore

    def report(p: Any) -> None:
        if not p.id:
            LineProgress(sys.stdout)(p)

    with _runtime() as rt:
        source = Path(args.input) if args.input else sys.stdin.buffer
        rt.images.load(source, progress=ignore if args.quiet else report)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from runtime.build.instructions import apply_changes
    from runtime.errors import InvalidArgument

    config = apply_changes({}, args.change or [])
    with _runtime() as rt:
        if args.file == "-":
            image = rt.images.import_rootfs(
                sys.stdin.buffer, args.reference, config=config, message=args.message or ""
            )
        else:
            try:
                f = open(args.file, "rb")  # noqa: SIM115 - closed below
            except OSError as exc:
                raise InvalidArgument(f"import {args.file}: {exc.strerror}") from exc
            with f:
                image = rt.images.import_rootfs(
                    f,
                    args.reference,
                    config=config,
                    message=args.message or "",
                    created_by=f"Imported from {args.file}",
                )
    print(image.id)
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    if not args.force and sys.stdin.isatty():
        what = "all images without at least one container" if args.all else "all dangling images"
        answer = input(
            f"WARNING! This will remove {what}.\nAre you sure you want to continue? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            return 0
    with _runtime() as rt:
        report = rt.images.prune(all=args.all)
    if report["ImagesDeleted"]:
        print("Deleted Images:")
        for entry in report["ImagesDeleted"]:
            for key, value in entry.items():
                print(f"{key.lower()}: {value}")
        print()
    print(f"Total reclaimed space: {_size(report['SpaceReclaimed'])}")
    return 0


def cmd_login(args: argparse.Namespace) -> int:
    from runtime.errors import InvalidArgument
    from runtime.images import registry

    host = args.server or "docker.io"
    user = args.username or input("Username: ")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif args.password is not None:
        password = args.password
    else:
        import getpass

        password = getpass.getpass("Password: ")
    if not user or not password:
        raise InvalidArgument("login: username and password are required")
    with _runtime() as rt:
        registry.login(rt.paths, host, user, password)
    print("Login Succeeded")
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    from runtime.images.auth import CredentialStore

    host = args.server or "docker.io"
    with _runtime() as rt:
        found = CredentialStore(rt.paths).remove(host)
    print(f"Removing login credentials for {host}" if found else f"Not logged in to {host}")
    return 0


# --- parsers -------------------------------------------------------------------------


def _images_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("reference", nargs="?", help="REPOSITORY[:TAG] to show")
    p.add_argument("-a", "--all", action="store_true", help="show intermediate images too")
    p.add_argument("--digests", action="store_true", help="show digests")
    p.add_argument("-f", "--filter", action="append", help="dangling=true|false, reference=PATTERN")
    p.add_argument("--format", default="table", help="table, json or a Go-style template")
    p.add_argument("--no-trunc", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true", help="only show image ids")
    p.set_defaults(func=cmd_images)


def _pull_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="NAME[:TAG|@DIGEST]")
    p.add_argument("--platform", help="os/arch[/variant] to pick from a manifest list")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_pull)


def _push_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="NAME[:TAG]")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_push)


def _tag_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="SOURCE_IMAGE[:TAG]")
    p.add_argument("target", help="TARGET_IMAGE[:TAG]")
    p.set_defaults(func=cmd_tag)


def _rmi_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("--no-prune", action="store_true", help="keep untagged parents")
    p.set_defaults(func=cmd_rmi)


def _history_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("image")
    p.add_argument("--format", default="table", help="table, json or a Go-style template")
    p.add_argument("--no-trunc", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument(
        "-H",
        "--human",
        action="store_true",
        default=True,
        help="print sizes and dates in human readable format (default true; -H=false: raw)",
    )
    p.set_defaults(func=cmd_history)


def _save_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-o", "--output", help="write to FILE instead of stdout")
    p.set_defaults(func=cmd_save)


def _load_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--input", help="read from FILE or DIR instead of stdin")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_load)


def _import_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="rootfs tarball (plain or compressed), or - for stdin")
    p.add_argument("reference", nargs="?", help="REPOSITORY[:TAG]")
    p.add_argument("-c", "--change", action="append", help="Dockerfile instruction to apply")
    p.add_argument("-m", "--message", help="commit message")
    p.set_defaults(func=cmd_import)


def _inspect_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-f", "--format", default="json", help="json or a Go-style template")
    p.set_defaults(func=cmd_inspect)


def _prune_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true", help="remove all unused images")
    p.add_argument("-f", "--force", action="store_true", help="do not prompt")
    p.set_defaults(func=cmd_prune)


def register(
    sub: argparse._SubParsersAction, groups: dict[str, argparse._SubParsersAction]
) -> None:
    """Add the image verbs and the ``image`` management command."""
    top = [
        ("images", "List images", _images_parser),
        ("pull", "Pull an image", _pull_parser),
        ("push", "Push an image", _push_parser),
        ("tag", "Tag an image", _tag_parser),
        ("rmi", "Remove images", _rmi_parser),
        ("history", "Show image history", _history_parser),
        ("save", "Save images to a tar archive", _save_parser),
        ("load", "Load images from a tar archive or OCI layout", _load_parser),
        ("import", "Import a rootfs tarball as an image", _import_parser),
    ]
    for name, help_text, build in top:
        build(sub.add_parser(name, help=help_text))
    image = management_group(sub, groups, "image", "Manage images")
    for names, help_text, build in [
        (("ls", "list"), "List images", _images_parser),
        (("pull",), "Pull an image", _pull_parser),
        (("push",), "Push an image", _push_parser),
        (("tag",), "Tag an image", _tag_parser),
        (("rm", "remove"), "Remove images", _rmi_parser),
        (("history",), "Show image history", _history_parser),
        (("save",), "Save images", _save_parser),
        (("load",), "Load images", _load_parser),
        (("import",), "Import a rootfs tarball", _import_parser),
        (("inspect",), "Show images as JSON", _inspect_parser),
        (("prune",), "Remove unused images", _prune_parser),
    ]:
        build(image.add_parser(names[0], aliases=list(names[1:]), help=help_text))
    login = sub.add_parser("login", help="Log in to a registry")
    login.add_argument("server", nargs="?")
    login.add_argument("-u", "--username")
    login.add_argument("-p", "--password")
    login.add_argument("--password-stdin", action="store_true")
    login.set_defaults(func=cmd_login)
    logout = sub.add_parser("logout", help="Log out from a registry")
    logout.add_argument("server", nargs="?")
    logout.set_defaults(func=cmd_logout)
