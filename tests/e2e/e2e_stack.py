"""The whole embedded stack as real processes: Redis, the ASGI server, the sweeper, root workers.

Used by the end-to-end tests; every process gets its own temporary directory,
database, Redis port and Wharf root, and everything is stopped afterwards.
Redis runs as its own unprivileged user with ACLs (no default user); each
worker is enrolled like a real host and runs with nothing of the site's in
its environment: no database URL, no secret key, no site Redis password.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.hosttags import claim_tag, release_tag

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    """Poll until ``predicate()`` is truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def accepted(r: httpx.Response) -> dict:
    """The body of an action the API took as a job: 202 with ``{"job": {"id", "url"}, …}``."""
    assert r.status_code == 202, r.text
    body = r.json()
    assert set(body["job"]) == {"id", "url"}, body
    return body


def job_ended(api: httpx.Client, job: dict, wait: float = 120) -> dict:
    """Wait until the job (``{"id", "url"}``) has ended; return its record."""
    return wait_for(
        lambda: (j := api.get(job["url"]).json())["state"] not in ("queued", "running") and j,
        wait,
        f"job {job['id']} to end",
    )


def job_output(api: httpx.Client, job: dict) -> str:
    """A job's output lines as one text."""
    lines = api.get(f"/api/v1/jobs/{job['id']}/output/?limit=5000").json()["results"]
    return "\n".join(line["text"] for line in lines)


@dataclass
class Stack:
    base: Path
    env: dict[str, str]
    web_url: str
    host_name: str
    token: str = ""
    password: str = ""
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    dropdb: str | None = None
    redis_port: int = 0
    redis_password: str = ""
    hosts: dict[str, dict[str, str]] = field(default_factory=dict)

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.web_url, headers={"Authorization": f"Token {self.token}"}, timeout=30
        )

    def ended(self, job: dict, wait: float = 120) -> dict:
        """Wait, as the stack's admin, until the job has ended; return its record."""
        with self.api() as api:
            return job_ended(api, job, wait)

    def output(self, job: dict) -> str:
        with self.api() as api:
            return job_output(api, job)

    @contextlib.contextmanager
    def running(self, prefix: str, command: list[str]) -> Iterator[dict]:
        """A busybox container of the admins' team on the stack's host, named PREFIX-…,
        once the API shows it running; yields the create's answer (its container and job)
        and removes it (forced) afterwards, waiting for the removal to end."""
        with self.api() as api:
            made = accepted(
                api.post(
                    "/api/v1/containers/",
                    json={
                        "host": self.host_name,
                        "image": "busybox",
                        "name": f"{prefix}-{uuid.uuid4().hex[:6]}",
                        "command": command,
                    },
                )
            )
            path = f"/api/v1/containers/{made['container']['id']}/"
            wait_for(
                lambda: api.get(path).json()["state"] == "running",
                90,
                f"{prefix}'s container to run as the API shows it",
            )
        try:
            yield made
        finally:
            with self.api() as api:
                self.ended(accepted(api.delete(path + "?force=1"))["job"], 60)

    def session(self, local_address: str | None = None) -> httpx.Client:
        """A cookie-keeping client of the pages, from LOCAL_ADDRESS if given (any of 127.0.0.0/8:
        the server sees each as another visitor's address)."""
        transport = httpx.HTTPTransport(local_address=local_address) if local_address else None
        return httpx.Client(base_url=self.web_url, timeout=30, transport=transport)

    def sign_in(self, client: httpx.Client, username: str, password: str) -> httpx.Response:
        """Post the sign-in form as a browser would (with its CSRF token); return the answer."""
        page = client.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, f"no CSRF token on the sign-in page: {page.status_code} {page.text[:300]}"
        return client.post(
            "/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token[1]},
        )

    def add_user(self, username: str, password: str) -> None:
        """A user in a team of its own (so it sees none of the admin's jobs)."""
        self.manage(
            "shell",
            "-c",
            (
                "from django.contrib.auth import get_user_model; "
                "from webapp.accounts.models import Membership, Team; "
                f"u = get_user_model().objects.create_user({username!r}, password={password!r}); "
                f"t = Team.objects.create(name={username!r}, slug={username!r}); "
                "Membership.objects.create(user=u, team=t)"
            ),
        )

    def add_job(self, *lines: str) -> int:
        """A job row of the admin's team with stored LINES, never queued; return its id."""
        out = self.manage(
            "shell",
            "-c",
            (
                "from webapp.jobs.models import Job; from webapp.fleet.models import Host; "
                "from webapp.accounts.models import Team; "
                f"j = Job.objects.create(kind='host.check', host=Host.objects.get(name={self.host_name!r}), "
                f"team=Team.objects.get(slug='admins'))\nfor t in {list(lines)!r}: j.log(t)\nprint('JOB', j.pk)"
            ),
        )
        return int(out.split("JOB")[-1])

    def log(self, name: str) -> str:
        path = self.base / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, name: str, argv: list[str], **extra_env: str) -> None:
        out = open(self.base / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.procs[name] = subprocess.Popen(
            argv,
            cwd=REPO,
            env={**self.env, **extra_env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def enroll(self, name: str) -> dict[str, str]:
        """Enrol host NAME as a real host does (a token, then ``python -m worker enroll``).

        Returns the whole environment its worker runs with: a host config, its own
        Wharf root, and nothing of the site's.
        """
        token = self.manage("hosts", "token", "--name", name).strip()
        config = self.base / f"host-{name}.json"
        root = self.base / f"root-{name}"
        for n in range(1, 200):  # a root whose host tag no live root has (tests/hosttags.py)
            if claim_tag(root):
                break
            root = self.base / f"root-{name}-{n}"
        else:
            raise AssertionError(f"no free host tag for {name}'s root")
        env = {
            "PATH": os.environ["PATH"],
            "HOME": "/root",
            "WHARF_HOST_CONFIG": str(config),
            "WHARF_ROOT": str(root),
            "WHARF_RUN": str(self.base / f"run-{name}"),
            "WHARF_TEST_JOBS": "1",
        }
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "worker",
                "enroll",
                "--site",
                self.web_url,
                "--token",
                token,
                "--name",
                name,
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if r.returncode != 0:
            raise AssertionError(f"enrolling {name} failed: {r.stdout}{r.stderr}")
        self.hosts[name] = env
        return env

    def start_worker(self, proc_name: str, host: str, *extra: str) -> None:
        """Start the worker of an enrolled host in its own environment (no site settings)."""
        out = open(self.base / f"{proc_name}.log", "ab")  # noqa: SIM115 - lives with the process
        self.procs[proc_name] = subprocess.Popen(
            [sys.executable, "-m", "worker", "run", "--concurrency", "1", *extra],
            cwd=REPO,
            env=self.hosts[host],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def redis(self) -> redis.Redis:  # noqa: F821 - imported lazily
        """A client of the stack's Redis as the site's user."""
        import redis

        return redis.Redis(
            port=self.redis_port, username="wharf-site", password=self.redis_password
        )

    def start_redis(self) -> None:
        """Redis as the unprivileged "redis" user, with the ACL file setup.sh would write."""
        data = self.base / "redis"
        data.mkdir(exist_ok=True)
        subprocess.run(
            [
                str(REPO / "scripts" / "redis-acl.sh"),
                str(data / "users.acl"),
                str(self.base / "redis.password"),
            ],
            check=True,
        )
        self.redis_password = (self.base / "redis.password").read_text().strip()
        shutil.chown(data, "redis", "redis")
        shutil.chown(data / "users.acl", "redis", "redis")
        self.base.chmod(0o711)
        self.start(
            "redis",
            [
                "setpriv",
                "--reuid=redis",
                "--regid=redis",
                "--clear-groups",
                "redis-server",
                str(REPO / "scripts" / "redis.conf"),
                "--port",
                str(self.redis_port),
                "--dir",
                str(data),
                "--aclfile",
                str(data / "users.acl"),
                "--daemonize",
                "no",
            ],
        )
        _wait_redis(self.redis_port)

    def start_web(self, name: str, port: int | None = None, **extra_env: str) -> str:
        """Start one more ASGI server process of the same site (with EXTRA_ENV settings, if
        given); return its URL once it answers."""
        port = port or free_port()
        self.start(
            name,
            [
                str(Path(sys.executable).parent / "uvicorn"),
                "webapp.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            ],
            **extra_env,
        )
        url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                return httpx.get(url + "/login/", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(answers, 30, f"{name} to answer (log: {self.log(name)[-1500:]})")
        return url

    def manage(self, *args: str) -> str:
        r = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if r.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed: {r.stderr[-2000:]}")
        return r.stdout

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for env in self.hosts.values():
            release_root(env["WHARF_ROOT"], env["WHARF_RUN"])
        if self.dropdb:
            _postgres_admin(
                self.env["WHARF_E2E_ADMIN_URL"], f'DROP DATABASE IF EXISTS "{self.dropdb}"'
            )
        if os.environ.get("WHARF_E2E_KEEP") == "1":  # to read the processes' logs afterwards
            print(f"e2e stack kept in {self.base}")
        else:
            shutil.rmtree(self.base, ignore_errors=True)


def release_root(root: str, run: str) -> None:
    """Take a host's containers, mounts, bridges and firewall table off the machine."""
    from runtime import Runtime
    from runtime.agent import client

    try:
        with Runtime(root, run) as rt:
            if not rt.paths.db.exists():
                return
            for c in rt.containers.list(all=True):
                rt.containers.remove(c.id, force=True)
            if client.running(rt.paths) or rt.networks.firewall.exists():
                rt.networks.reset()
            client.stop(rt.paths)
    finally:
        release_tag(Path(root))


def _postgres_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def start_stack() -> Stack:
    """Start Redis, migrate a fresh database, start the worker and the ASGI server."""
    if os.geteuid() != 0:
        raise AssertionError(
            "the end-to-end tests need root: the worker runs as root (sudo ./scripts/test.sh)"
        )
    for tool in ("redis-server", "runc"):
        if shutil.which(tool) is None:
            raise AssertionError(f"{tool} is not installed; run scripts/setup.sh")
    base = Path(os.environ.get("TMPDIR", "/var/tmp")) / f"wharf-e2e-{uuid.uuid4().hex[:8]}"
    base.mkdir(parents=True)
    redis_port = free_port()
    host_name = f"e2e-{uuid.uuid4().hex[:6]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="webapp.settings",
        WHARF_ENV="local",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        STATIC_ROOT=str(base / "static"),
        WHARF_HEARTBEAT_SECONDS="2",
        WHARF_UNREACHABLE_AFTER="6",
        WHARF_UNREACHABLE_CHECK_SECONDS="2",
        # the "test.sleep" job kind, with short limits, for the fault tests
        WHARF_TEST_JOBS="1",
        WHARF_TEST_JOB_TIME_LIMIT="3",
        WHARF_JOB_HARD_GRACE="3",
        # sign-in throttle: small limits and a short window, so a test sees one expire
        WHARF_SIGNIN_WINDOW_SECONDS="15",
        WHARF_SIGNIN_ACCOUNT_LIMIT="3",
        WHARF_SIGNIN_ADDRESS_LIMIT="6",
    )
    stack = Stack(base=base, env=env, web_url="", host_name=host_name)
    db_url = os.environ.get("DATABASE_URL", "")
    if db_url.startswith("postgres"):
        name = f"wharf_e2e_{uuid.uuid4().hex[:8]}"
        admin_url = db_url.rsplit("/", 1)[0] + "/postgres"
        env["WHARF_E2E_ADMIN_URL"] = admin_url
        _postgres_admin(admin_url, f'CREATE DATABASE "{name}"')
        stack.dropdb = name
        env["DATABASE_URL"] = db_url.rsplit("/", 1)[0] + "/" + name
    else:
        env["DATABASE_URL"] = f"sqlite:///{base / 'db.sqlite3'}"
    stack.redis_port = redis_port
    try:
        stack.start_redis()
        env["REDIS_URL"] = f"redis://wharf-site:{stack.redis_password}@127.0.0.1:{redis_port}/0"
        env["WHARF_SIGNING_KEY_FILE"] = str(base / "job_signing_key")
        env["WHARF_CREDENTIALS_KEY_FILE"] = str(base / "credentials_key")
        env["WHARF_UPLOAD_DIR"] = str(base / "uploads")
        stack.manage("migrate", "--noinput", "-v0")
        stack.manage("collectstatic", "--noinput", "-v0")
        stack.password = secrets.token_urlsafe(12)
        env["WHARF_ADMIN_PASSWORD"] = stack.password
        stack.manage("ensure_admin")
        stack.token = stack.manage("tokens", "create", "admin").strip()
        # the port is chosen as late as can be: another process may take a free port
        # in the seconds a migration takes
        stack.web_url = stack.start_web("web")
        stack.start("sweeper", [sys.executable, "manage.py", "sweep", "--forever"])
        stack.enroll(host_name)
        stack.start_worker("worker", host_name)
        with stack.api() as api:

            def host_online():
                try:
                    hosts = api.get("/api/v1/hosts/").json()["results"]
                except (httpx.HTTPError, ValueError, KeyError):
                    return None
                return [h for h in hosts if h["name"] == host_name and h["state"] == "online"]

            wait_for(
                host_online,
                60,
                f"host {host_name} to register (worker log: {stack.log('worker')[-1500:]})",
            )
        try:
            wait_for(lambda: "ready" in stack.log("worker"), 60, "the worker to be ready")
        except AssertionError as exc:
            raise AssertionError(f"{exc} (worker log: {stack.log('worker')[-2500:]})") from None
    except BaseException:
        stack.stop()
        raise
    return stack


def _wait_redis(port: int) -> None:
    def ping():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                # no default user: an anonymous PING is refused, but it is Redis answering
                return s.recv(64).startswith((b"+PONG", b"-NOAUTH"))
        except OSError:
            return False

    wait_for(ping, 10, f"redis on port {port}")
