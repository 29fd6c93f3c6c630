"""Build an image from a Dockerfile, one cached image per step.

Each stage starts from its FROM image; metadata instructions (ENV, CMD, …)
make an empty-layer history entry, COPY/ADD write their files into a fresh
directory that becomes one layer, RUN runs in a real Wharf container whose
upper directory becomes one layer. A step is reused from the cache when its
parent image, its instruction after substitution, the build args it can see
and the content of the files it copies are unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tarfile
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime import db
from runtime.build.context import Context
from runtime.build.errors import BuildError
from runtime.build.instructions import CONFIG_COMMANDS, DEFAULT_SHELL, apply_instruction, command
from runtime.build.parser import Instruction, parse
from runtime.build.substitution import expand_word, split_words
from runtime.errors import NotFound, WharfError

PROXY_ARGS = {
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
}
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CACHE_SCHEMA = """
CREATE TABLE IF NOT EXISTS build_cache (
    parent TEXT NOT NULL,
    key TEXT NOT NULL,
    image_id TEXT NOT NULL,
    PRIMARY KEY (parent, key)
);
"""
Progress = Callable[[str], None]
#: a registry host's username and password, or None (the Engine API's ``X-Registry-Config``)
Credentials = Callable[[str], "tuple[str, str] | None"]


@dataclass
class BuildOptions:
    context: str
    context_name: str | None = None  # how messages call the context (default: its path)
    dockerfile: str = "Dockerfile"
    dockerfile_text: str | None = None  # a Dockerfile given on stdin
    tags: list[str] = field(default_factory=list)
    build_args: dict[str, str] = field(default_factory=dict)
    target: str = ""
    no_cache: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    network: str = "bridge"


@dataclass
class Stage:
    index: int
    name: str
    base: str
    line: int
    instructions: list[Instruction]
    image: Any = None  # the image after the last step (None: scratch with no step yet)
    config: dict = field(default_factory=dict)
    args: dict[str, str] = field(default_factory=dict)
    cmd_set: bool = False  # a CMD came in this stage: a later ENTRYPOINT keeps it

    def env(self) -> dict[str, str]:
        """Variables visible to substitution: declared ARGs, then ENV (ENV wins)."""
        out = dict(self.args)
        for item in self.config.get("Env") or []:
            k, _, v = item.partition("=")
            out[k] = v
        return out


class Builder:
    """One build: see the module docstring."""

    def __init__(
        self,
        rt: Any,
        options: BuildOptions,
        progress: Progress | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        self.rt = rt
        self.opts = options
        self.credentials = credentials  # for a FROM image missing here, pulled as Docker does
        self.say = progress or (lambda line: None)
        self.workdir = rt.paths.root / "tmp" / "build"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.conn = db.connect(rt.paths.db)
        db.ensure_schema(self.conn, "build", CACHE_SCHEMA)
        self.used_args: set[str] = set()
        self.step = 0
        self.total = 0
        self._cancelled = threading.Event()
        self._running: str | None = None  # the RUN step's container, while it runs

    def cancel(self) -> None:
        """Stop the build from another thread (the Engine API's client went away, as
        dockerd cancels): the running step's container is killed, no later step starts."""
        from runtime import Runtime

        self._cancelled.set()
        running = self._running
        if running is not None:
            with (
                contextlib.suppress(WharfError),
                Runtime(self.rt.paths.root, self.rt.paths.run) as rt,
            ):
                rt.containers.kill(running)

    def _check_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise BuildError("the build was cancelled")

    def build(self) -> Any:
        """Run the build; return the final image."""
        ctx = Context.open(self.opts.context, self.workdir, self.opts.context_name)
        self.ctx = ctx
        try:
            text = self.opts.dockerfile_text
            if text is None:
                text = ctx.dockerfile(self.opts.dockerfile)
            df = parse(text)
            self.escape = df.escape
            global_args, stages = self._stages(df.instructions)
            wanted = self._needed(stages)
            self.total = sum(1 + len(s.instructions) for s in stages if s.index in wanted)
            for stage in stages:
                if stage.index in wanted:
                    self._build_stage(stage, stages, global_args)
            final = stages[max(wanted)]
            image = final.image
            if self.opts.labels:  # a cached step like any LABEL, so a rebuild is the same image
                final.config = dict(
                    final.config, Labels={**(final.config.get("Labels") or {}), **self.opts.labels}
                )
                self._commit_meta(final, "LABEL (build --label)")
                image = final.image
            if image is None:
                image = self.rt.images.commit(None, None, final.config, created_by="FROM scratch")
            unused = set(self.opts.build_args) - self.used_args - PROXY_ARGS
            if unused:
                self.say(f"[Warning] One or more build-args {sorted(unused)} were not consumed")
            for tag in self.opts.tags:
                self.rt.images.tag(image.id, tag)
            self.say(f"Successfully built {image.id.split(':')[-1][:12]}")
            for tag in self.opts.tags:
                self.say(f"Successfully tagged {tag}")
            return image
        finally:
            ctx.close()
            self.conn.close()

    # --- stages ----------------------------------------------------------------

    def _stages(self, instructions: list[Instruction]) -> tuple[dict[str, str], list[Stage]]:
        global_args: dict[str, str] = {}
        stages: list[Stage] = []
        for ins in instructions:
            if ins.cmd == "FROM":
                words = split_words(ins.args, None, self.escape, ins.line)
                name = ""
                if len(words) == 3 and words[1].lower() == "as":
                    name = words[2].lower()
                elif len(words) != 1:
                    raise BuildError("FROM requires either one or three arguments", ins.line)
                _check_platform(ins.flags.get("platform"), ins.line)
                stages.append(Stage(len(stages), name, words[0], ins.line, []))
            elif not stages:
                if ins.cmd != "ARG":
                    raise BuildError(
                        "no build stage in current context: the Dockerfile must begin "
                        "with FROM (ARG may come before it)",
                        ins.line,
                    )
                for key, value in self._arg_pairs(ins, {}):
                    global_args[key] = self.opts.build_args.get(
                        key, value if value is not None else ""
                    )
                    self.used_args.add(key)
            else:
                stages[-1].instructions.append(ins)
        if not stages:
            raise BuildError("the Dockerfile has no FROM instruction")
        return global_args, stages

    def _needed(self, stages: list[Stage]) -> set[int]:
        target = len(stages) - 1
        if self.opts.target:
            found = [s.index for s in stages if s.name == self.opts.target.lower()]
            if not found:
                raise BuildError(f"target stage {self.opts.target!r} could not be found")
            target = found[0]
        wanted, todo = set(), [target]
        while todo:
            idx = todo.pop()
            if idx in wanted:
                continue
            wanted.add(idx)
            stage = stages[idx]
            refs = [stage.base] + [
                i.flags["from"]
                for i in stage.instructions
                if i.cmd in ("COPY", "ADD") and "from" in i.flags
            ]
            for ref in refs:
                dep = self._stage_ref(ref, stages[:idx])
                if dep is not None:
                    todo.append(dep.index)
        return wanted

    @staticmethod
    def _stage_ref(ref: str, earlier: list[Stage]) -> Stage | None:
        for s in earlier:
            if s.name and s.name == ref.lower():
                return s
        if ref.isdigit() and int(ref) < len(earlier):
            return earlier[int(ref)]
        return None

    def _build_stage(self, stage: Stage, stages: list[Stage], global_args: dict[str, str]) -> None:
        self.step += 1
        base = expand_word(stage.base, global_args, self.escape, stage.line)
        self.say(
            f"Step {self.step}/{self.total} : FROM {base}"
            + (f" AS {stage.name}" if stage.name else "")
        )
        earlier = self._stage_ref(base, stages[: stage.index])
        if earlier is not None:
            stage.image, stage.config = earlier.image, json.loads(json.dumps(earlier.config))
        elif base == "scratch":
            stage.image, stage.config = None, {"Env": [DEFAULT_PATH]}
        else:
            try:
                stage.image = self.rt.images.get(base)
            except NotFound:
                # Docker's builder pulls a base it does not have, then goes on
                self.say(f"Pulling {base}")
                try:
                    pull_base(self.rt, base, self.credentials)
                    stage.image = self.rt.images.get(base)
                except WharfError as exc:
                    raise BuildError(f"FROM {base}: {exc}", stage.line) from exc
            stage.config = json.loads(json.dumps(stage.image.container_config))
            env = stage.config.get("Env") or []
            if not any(e.startswith("PATH=") for e in env):
                stage.config["Env"] = [*env, DEFAULT_PATH]  # as Docker's builder does
        if stage.image is not None:
            self.say(f" ---> {stage.image.id.split(':')[-1][:12]}")
        triggers = stage.config.pop("OnBuild", None) or []
        for trigger in triggers:
            (ins,) = parse(trigger).instructions
            ins.line = stage.line
            self._step(stage, ins, stages, global_args, count=False)
        for ins in stage.instructions:
            self._check_cancelled()
            self.step += 1
            self.say(f"Step {self.step}/{self.total} : {ins.original}")
            self._step(stage, ins, stages, global_args)

    # --- steps -------------------------------------------------------------------

    def _step(
        self,
        stage: Stage,
        ins: Instruction,
        stages: list[Stage],
        global_args: dict[str, str],
        count: bool = True,
    ) -> None:
        try:
            if ins.cmd in CONFIG_COMMANDS:
                self._configure(stage, ins)
            else:
                getattr(self, f"_do_{ins.cmd.lower()}")(stage, ins, stages, global_args)
        except BuildError:
            raise
        except WharfError as exc:
            raise BuildError(f"{ins.cmd}: {exc}", ins.line) from exc

    def _words(self, stage: Stage, ins: Instruction) -> list[str]:
        return split_words(ins.args, stage.env(), self.escape, ins.line)

    def _commit_meta(self, stage: Stage, created_by: str) -> None:
        key = _key({"meta": created_by, "config": stage.config})
        cached = self._cached(stage, key)
        if cached is None:
            cached = self.rt.images.commit(stage.image, None, stage.config, created_by=created_by)
            self._remember(stage, key, cached)
        stage.image = cached
        self.say(f" ---> {cached.id.split(':')[-1][:12]}")

    def _cached(self, stage: Stage, key: str) -> Any | None:
        if self.opts.no_cache:
            return None
        parent = stage.image.id if stage.image is not None else "scratch"
        row = self.conn.execute(
            "SELECT image_id FROM build_cache WHERE parent=? AND key=?", (parent, key)
        ).fetchone()
        if row is None:
            return None
        try:
            image = self.rt.images.get(row[0])
        except NotFound:
            return None
        self.say(" ---> Using cache")
        return image

    def _remember(self, stage: Stage, key: str, image: Any) -> None:
        parent = stage.image.id if stage.image is not None else "scratch"
        with db.transaction(self.conn):
            self.conn.execute(
                "INSERT OR REPLACE INTO build_cache (parent, key, image_id) VALUES (?,?,?)",
                (parent, key, image.id),
            )

    def _configure(self, stage: Stage, ins: Instruction) -> None:
        created_by = apply_instruction(
            stage.config, ins, stage.env(), self.escape, cmd_set=stage.cmd_set
        )
        stage.cmd_set = stage.cmd_set or ins.cmd == "CMD"
        self._commit_meta(stage, created_by)

    def _do_arg(
        self, stage: Stage, ins: Instruction, _stages: Any, global_args: dict[str, str]
    ) -> None:
        for key, default in self._arg_pairs(ins, stage.env()):
            self.used_args.add(key)
            if key in self.opts.build_args:
                stage.args[key] = self.opts.build_args[key]
            elif default is not None:
                stage.args[key] = default
            elif key in global_args:
                stage.args[key] = global_args[key]
            else:
                stage.args.setdefault(key, "")

    def _arg_pairs(self, ins: Instruction, env: dict[str, str]) -> list[tuple[str, str | None]]:
        out = []
        for word in split_words(ins.args, env, self.escape, ins.line):
            key, eq, value = word.partition("=")
            out.append((key, value if eq else None))
        return out

    # --- RUN ----------------------------------------------------------------------

    def _do_run(self, stage: Stage, ins: Instruction, *_: Any) -> None:
        from runtime.containers.model import ContainerSpec

        if ins.heredocs and ins.json_args is None:
            argv = [*(stage.config.get("Shell") or DEFAULT_SHELL), ins.heredocs[0][1]]
        else:
            argv = command(stage.config, ins)
        if not argv:
            raise BuildError("RUN needs a command", ins.line)
        build_env = [
            f"{k}={v}"
            for k, v in sorted(stage.args.items())
            if not any(e.startswith(k + "=") for e in stage.config.get("Env") or [])
        ]
        # predefined proxy args reach RUN without an ARG line, and (as in Docker) stay
        # out of the cache key and the image's history
        proxies = [
            f"{k}={v}"
            for k, v in sorted(self.opts.build_args.items())
            if k in PROXY_ARGS and k not in stage.args
        ]
        key = _key({"run": argv, "args": build_env, "network": self.opts.network})
        cached = self._cached(stage, key)
        if cached is not None:
            stage.image = cached
            self.say(f" ---> {cached.id.split(':')[-1][:12]}")
            return
        if stage.image is None:
            raise BuildError(
                "RUN needs a base image with a shell; this stage is FROM scratch with no files",
                ins.line,
            )
        spec = ContainerSpec(
            image=stage.image.id,
            cmd=argv,
            entrypoint=[],
            env=[*(stage.config.get("Env") or []), *build_env, *proxies],
            workdir=stage.config.get("WorkingDir") or "",
            user=stage.config.get("User") or "",
            network=self.opts.network,
        )
        ctr = self.rt.containers.create(spec)
        self.say(f" ---> Running in {ctr.id[:12]}")
        self._running = ctr.id
        try:
            self._check_cancelled()  # a cancel that came before _running was set
            self.rt.containers.start(ctr.id)
            if self._cancelled.is_set():  # a cancel whose kill came before the start
                with contextlib.suppress(WharfError):
                    self.rt.containers.kill(ctr.id)
            code = self.rt.containers.wait(ctr.id)
            self._check_cancelled()
            tail: list[str] = []
            for record in self.rt.containers.logs(ctr.id):
                text = record["log"].rstrip("\n")
                self.say(text)
                tail = (tail + [text])[-5:]
            if code != 0:
                shown = "; ".join(tail)
                raise BuildError(
                    f"The command '{' '.join(argv)}' returned a non-zero code: {code}"
                    + (f" (last output: {shown})" if shown else ""),
                    ins.line,
                    exit_code=code,
                )
            created_by = (
                f"RUN {' '.join(argv)}" if ins.json_args is None else f"RUN {json.dumps(argv)}"
            )
            image = self.rt.images.commit(
                stage.image,
                self.rt.containers.upper_dir(ctr.id),
                stage.config,
                created_by=created_by,
            )
        finally:
            self._running = None
            with contextlib.suppress(WharfError):
                self.rt.containers.remove(ctr.id, force=True)
        self._remember(stage, key, image)
        stage.image = image
        self.say(f" ---> {image.id.split(':')[-1][:12]}")

    # --- COPY / ADD ------------------------------------------------------------------

    def _do_copy(self, stage: Stage, ins: Instruction, stages: list[Stage], *_: Any) -> None:
        self._copy(stage, ins, stages, add=False)

    def _do_add(self, stage: Stage, ins: Instruction, stages: list[Stage], *_: Any) -> None:
        self._copy(stage, ins, stages, add=True)

    def _copy(self, stage: Stage, ins: Instruction, stages: list[Stage], add: bool) -> None:
        unknown = set(ins.flags) - {"from", "chown", "chmod", "link"}
        if unknown:
            raise BuildError(f"unknown flag for {ins.cmd}: --{sorted(unknown)[0]}", ins.line)
        if ins.heredocs:
            words = self._words(stage, ins)
            dest = words[-1]
            inline = dict(ins.heredocs)
            sources = [w[2:].strip("'\"-") for w in words[:-1]]
            missing = [s for s in sources if s not in inline]
            if missing:
                raise BuildError(f"{ins.cmd}: heredoc {missing[0]} not found", ins.line)
        else:
            words = ins.json_args if ins.json_args is not None else self._words(stage, ins)
            if ins.json_args is not None:
                words = [expand_word(w, stage.env(), self.escape, ins.line) for w in words]
            if len(words) < 2:
                raise BuildError(f"{ins.cmd} requires at least two arguments", ins.line)
            sources, dest, inline = words[:-1], words[-1], {}
        if any(s.startswith(("http://", "https://")) for s in sources):
            raise BuildError(
                f"{ins.cmd} from a URL is not supported on this host (no outside network)", ins.line
            )
        workdir = stage.config.get("WorkingDir") or "/"
        target = dest if dest.startswith("/") else os.path.join(workdir, dest)
        dir_dest = dest.endswith("/") or len(sources) > 1
        src_ref = ins.flags.get("from")
        with self._source_root(src_ref, stages, stage, ins.line) as (root, content_key):
            if root is None:
                paths = (
                    [p for s in sources for p in self.ctx.sources(s, ins.line)]
                    if not inline
                    else []
                )
                digest = self.ctx.digest(paths) if paths else _key(inline)
            else:
                paths = [self._in_image(root, s, ins.line) for s in sources]
                digest = content_key
            key = _key(
                {
                    "copy": ins.cmd,
                    "sources": sources,
                    "dest": target,
                    "dir": dir_dest,
                    "flags": ins.flags,
                    "digest": digest,
                }
            )
            cached = self._cached(stage, key)
            if cached is not None:
                stage.image = cached
                self.say(f" ---> {cached.id.split(':')[-1][:12]}")
                return
            layer = Path(tempfile.mkdtemp(prefix="copy-", dir=self.workdir))
            try:
                uid_gid = self._owner(stage, ins)
                if inline:
                    for name in sources:
                        out = _dest_path(layer, target, name, dir_dest)
                        out.parent.mkdir(parents=True, exist_ok=True)
                        out.write_text(inline[name])
                        self._finish(out, uid_gid, ins)
                else:
                    for src in paths:
                        self._place(
                            src, layer, target, dir_dest, add and root is None, uid_gid, ins
                        )
                self._settle_parents(stage, layer, target, uid_gid)
                image = self.rt.images.commit(
                    stage.image,
                    layer,
                    stage.config,
                    created_by=f"{ins.cmd} {' '.join(sources)} {dest}",
                )
            finally:
                shutil.rmtree(layer, ignore_errors=True)
        self._remember(stage, key, image)
        stage.image = image
        self.say(f" ---> {image.id.split(':')[-1][:12]}")

    @contextlib.contextmanager
    def _source_root(
        self, ref: str | None, stages: list[Stage], stage: Stage, line: int
    ) -> Iterator[tuple[Path | None, str]]:
        """Yield the filesystem COPY --from reads (None: the context) and its cache identity."""
        if ref is None:
            yield None, ""
            return
        other = self._stage_ref(ref, stages[: stage.index])
        if other is not None:
            image = other.image
        else:
            try:
                image = self.rt.images.get(ref)
            except NotFound as exc:
                raise BuildError(f"COPY --from={ref}: no such stage or image", line) from exc
        if image is None:
            empty = Path(tempfile.mkdtemp(prefix="scratch-", dir=self.workdir))
            try:
                yield empty, "scratch"
            finally:
                shutil.rmtree(empty, ignore_errors=True)
            return
        with image_view(self.rt, image, self.workdir) as root:
            yield root, image.id

    def _in_image(self, root: Path, source: str, line: int) -> Path:
        from runtime.containers.rootfs import resolve

        path = resolve(root, source)
        if not path.is_relative_to(root) or not os.path.lexists(path):
            raise BuildError(f"COPY failed: {source} not found in the source stage or image", line)
        return path

    def _owner(self, stage: Stage, ins: Instruction) -> tuple[int, int] | None:
        chown = ins.flags.get("chown")
        if not chown:
            return None
        chown = expand_word(chown, stage.env(), self.escape, ins.line)
        user, _, group = chown.partition(":")
        if user.isdigit() and (not group or group.isdigit()):
            return int(user), int(group or user)
        from runtime.containers.rootfs import resolve_user

        if stage.image is None:
            raise BuildError(
                f"--chown={chown}: names need an /etc/passwd; this stage has none", ins.line
            )
        with image_view(self.rt, stage.image, self.workdir) as root:
            uid, gid, _extra, _home = resolve_user(root, chown)
        return uid, gid

    def _settle_parents(
        self, stage: Stage, layer: Path, target: str, owner: tuple[int, int] | None
    ) -> None:
        """Give the directories on the way to a COPY's destination Docker's owners and modes.

        Those the image already has keep the image's owner and mode (the layer's
        copy of them would otherwise win: ``/tmp`` would lose its 1777); those the
        COPY creates belong to ``--chown``'s owner, as Docker's builder makes them.
        """
        from runtime.containers.rootfs import resolve

        rel = Path(target.lstrip("/"))
        chain = [layer / p for p in reversed(rel.parents) if str(p) != "."] + [layer / rel]
        dirs = [d for d in chain if d.is_dir() and not d.is_symlink()]
        if not dirs:
            return
        view = (
            image_view(self.rt, stage.image, self.workdir)
            if stage.image is not None
            else contextlib.nullcontext(None)
        )
        with view as root:
            for d in dirs:
                existing = None
                if root is not None:
                    found = resolve(root, "/" + str(d.relative_to(layer)))
                    if found.is_relative_to(root) and found.is_dir():
                        existing = found.stat()
                if existing is None:
                    if owner is not None:
                        os.lchown(d, *owner)
                else:
                    os.lchown(d, existing.st_uid, existing.st_gid)
                    d.chmod(stat.S_IMODE(existing.st_mode))

    def _place(
        self,
        src: Path,
        layer: Path,
        target: str,
        dir_dest: bool,
        extract: bool,
        owner: tuple[int, int] | None,
        ins: Instruction,
    ) -> None:
        if extract and src.is_file() and tarfile.is_tarfile(src):
            out = _dest_path(layer, target, "", True)
            out.mkdir(parents=True, exist_ok=True)
            with tarfile.open(src) as tar:
                tar.extractall(out, filter="data")
            for p in [out, *out.rglob("*")]:
                self._finish(p, owner, ins, chmod=False)
            return
        if src.is_dir() and not src.is_symlink():
            out = _dest_path(layer, target, "", True)
            out.mkdir(parents=True, exist_ok=True)
            for item in sorted(src.rglob("*")):
                if src.is_relative_to(self.ctx.root) and not self.ctx.included(item):
                    continue
                dst = out / item.relative_to(src)
                dst.parent.mkdir(parents=True, exist_ok=True)
                _copy_one(item, dst)
                self._finish(dst, owner, ins)
            return
        out = _dest_path(layer, target, src.name, dir_dest)
        out.parent.mkdir(parents=True, exist_ok=True)
        _copy_one(src, out)
        self._finish(out, owner, ins)

    @staticmethod
    def _finish(
        path: Path, owner: tuple[int, int] | None, ins: Instruction, chmod: bool = True
    ) -> None:
        if owner is not None:
            os.lchown(path, *owner)
        mode = ins.flags.get("chmod")
        if chmod and mode and not path.is_symlink():
            try:
                path.chmod(int(mode, 8))
            except ValueError as exc:
                raise BuildError(
                    f"invalid --chmod={mode}: expected an octal mode", ins.line
                ) from exc


def pull_base(rt: Any, ref: str, credentials: Credentials | None = None) -> None:
    """Pull one FROM image, with the credentials given for its registry (else the stored ones)."""
    from runtime.images.reference import parse_reference

    login = credentials(parse_reference(ref).domain) if credentials else None
    rt.images.pull(ref, progress=lambda *a, **k: None, credentials=login)


def pull_bases(rt: Any, opts: BuildOptions, credentials: Credentials | None = None) -> None:
    """Pull every FROM image that is not a stage or scratch (``build --pull``)."""

    if opts.dockerfile_text is not None:
        text = opts.dockerfile_text
    else:
        ctx = Context.open(opts.context, rt.paths.root / "tmp" / "build", opts.context_name)
        try:
            text = ctx.dockerfile(opts.dockerfile)
        finally:
            ctx.close()
    names = set()
    for ins in parse(text).instructions:
        if ins.cmd == "FROM":
            words = ins.args.split()
            if words[0] != "scratch" and words[0].lower() not in names:
                pull_base(rt, words[0], credentials)
            if len(words) == 3:
                names.add(words[2].lower())


@contextlib.contextmanager
def image_view(rt: Any, image: Any, workdir: Path) -> Iterator[Path]:
    """Mount an image's layers read-only (an overlay with a throw-away upper) for reading."""
    from runtime.containers.rootfs import mount_overlay, unmount

    base = Path(tempfile.mkdtemp(prefix="view-", dir=workdir))
    merged = base / "merged"
    try:
        (base / "upper").mkdir()
        (base / "work").mkdir()
        layers = list(reversed(rt.images.layer_paths(image)))
        if not layers:
            merged.mkdir()
        else:
            mount_overlay(layers, base / "upper", base / "work", merged)
        yield merged
    finally:
        unmount(merged)
        shutil.rmtree(base, ignore_errors=True)


def _check_platform(platform: str | None, line: int) -> None:
    """Accept ``FROM --platform`` naming this host's platform; refuse one it cannot run."""
    if not platform or "$" in platform:
        return  # $BUILDPLATFORM / $TARGETPLATFORM: always this host here
    import platform as host

    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(host.machine(), host.machine())
    os_name, _, rest = platform.partition("/")
    if os_name != "linux" or rest.split("/")[0] != arch:
        raise BuildError(f"FROM --platform={platform}: this host builds linux/{arch} only", line)


def _dest_path(layer: Path, target: str, name: str, dir_dest: bool) -> Path:
    rel = target.lstrip("/")
    out = layer / rel
    return out / name if dir_dest and name else out


def _copy_one(src: Path, dst: Path) -> None:
    if src.is_symlink():
        if os.path.lexists(dst):
            dst.unlink()
        os.symlink(os.readlink(src), dst)
    elif src.is_dir():
        dst.mkdir(exist_ok=True)
        shutil.copystat(src, dst)
    else:
        shutil.copy2(src, dst)


def _key(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()
