"""The site at fleet scale: list pages and API lists over 100 hosts, 10,000 containers, 50,000 jobs.

Makes a scratch database (SQLite in a temporary directory; with ``--postgres``
a throw-away PostgreSQL server of its own; with ``DATABASE_URL`` a scratch
database on that PostgreSQL server), migrates it, loads the fleet with
``bulk_create`` (teams and their users and grants, hosts, containers with
states, images, labels and ports, images, volumes, networks, jobs with
requesters and some with output, audit entries), then starts the real ASGI
server (uvicorn, one process) on 127.0.0.1 and times each list as a fleet
admin and as a member of two teams: p50, p95 and max over ``--requests``
sequential requests after a warm-up, each checked to be a 200 with the
expected rows. PASS when every p95 is under 100 ms. Everything it made (the
directory, the server, the database or PostgreSQL server) is gone at the end.

Run: ``.venv/bin/python bench/site_scale.py [--postgres] [--requests 50]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

HOSTS, CONTAINERS, JOBS = 100, 10_000, 50_000
TEAMS, HOSTS_PER_TEAM = 20, 5
IMAGES_PER_HOST, VOLUMES_PER_HOST, NETWORKS_PER_HOST = 10, 10, 3
JOBS_WITH_OUTPUT, LINES_PER_JOB = 5_000, 10
AUDIT_ENTRIES = 20_000
TARGET_MS = 100.0
URLS = [
    "/containers/",
    "/",
    "/jobs/",
    "/api/v1/containers/",
    "/api/v1/jobs/",
    "/api/v1/hosts/",
    "/api/v1/images/",
]


def machine() -> str:
    cpu = "?"
    for row in Path("/proc/cpuinfo").read_text().splitlines():
        if row.startswith("model name"):
            cpu = row.split(":", 1)[1].strip()
            break
    mem = int(Path("/proc/meminfo").read_text().split()[1]) // (1024 * 1024)
    return f"{cpu}, {os.cpu_count()} CPUs, {mem} GiB, kernel {platform.release()}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def own_postgres(tmp: Path) -> Iterator[str]:
    """A PostgreSQL server of our own in TMP on a free port (as scripts/ci-postgres.sh), stopped after."""
    pgbin = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1]
    data, port = tmp / "pg", free_port()
    data.mkdir()
    shutil.chown(data, "postgres")
    shutil.chown(tmp, "postgres")

    def pg(*args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True)

    pg(str(pgbin / "initdb"), "-D", str(data / "data"), "-A", "trust", "-U", "postgres")
    opts = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={data}"
    pg(
        str(pgbin / "pg_ctl"),
        "-D",
        str(data / "data"),
        "-l",
        str(data / "log"),
        "-w",
        "-o",
        opts,
        "start",
    )
    try:
        pg(str(pgbin / "createdb"), "-h", "127.0.0.1", "-p", str(port), "wharf")
        yield f"postgres://postgres@127.0.0.1:{port}/wharf"
    finally:
        pg(str(pgbin / "pg_ctl"), "-D", str(data / "data"), "-m", "fast", "stop")


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A fresh database on the PostgreSQL server of SERVER_URL, dropped after."""
    import psycopg

    base, _, _ = server_url.rpartition("/")
    name = f"wharf_scale_{os.getpid()}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextlib.contextmanager
def database(args: argparse.Namespace, tmp: Path) -> Iterator[str]:
    if args.postgres:
        with own_postgres(tmp) as url:
            yield url
    elif os.environ.get("DATABASE_URL"):
        with scratch_database(os.environ["DATABASE_URL"]) as url:
            yield url
    else:
        yield f"sqlite:///{tmp / 'db.sqlite3'}"


def load(seed: int = 1) -> dict:
    """The fleet, in bulk; returns the readers' credentials and what each should see."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from webapp.accounts.models import Membership, Team
    from webapp.accounts.tokens import ApiToken
    from webapp.audit.models import AuditEntry
    from webapp.fleet.models import Host, HostGrant
    from webapp.inventory.models import Container, Image, Network, Volume
    from webapp.jobs.models import Job, JobLine

    rnd = random.Random(seed)
    now = timezone.now()
    User = get_user_model()
    teams = Team.objects.bulk_create(
        Team(name=f"Team {t:02}", slug=f"team-{t:02}") for t in range(TEAMS)
    )
    users = User.objects.bulk_create(
        User(username=f"user-{t:02}-{u}", password="!") for t in range(TEAMS) for u in range(3)
    )
    Membership.objects.bulk_create(
        Membership(user=users[i], team=teams[i // 3], role=("admin", "operator", "viewer")[i % 3])
        for i in range(len(users))
    )
    hosts = Host.objects.bulk_create(
        Host(
            name=f"scale-host-{h:03}",
            state="online",
            last_heartbeat=now,
            facts={"cpus": 16, "memory": 64 * 2**30, "kernel": "6.1", "load": [0.5, 0.4, 0.3]},
        )
        for h in range(HOSTS)
    )
    HostGrant.objects.bulk_create(
        HostGrant(team=teams[h // HOSTS_PER_TEAM], host=hosts[h]) for h in range(HOSTS)
    )
    team_of = {host.pk: teams[h // HOSTS_PER_TEAM] for h, host in enumerate(hosts)}

    # jobs keep the times we give them, spread over a month, as a real log would be
    created = Job._meta.get_field("created")
    created.auto_now_add = False
    kinds = ["container.create", "container.start", "container.stop", "image.pull", "host.check"]
    states = (
        ["succeeded"] * 80 + ["failed"] * 12 + ["cancelled"] * 4 + ["running"] * 2 + ["queued"] * 2
    )
    jobs = []
    for j in range(JOBS):
        host = hosts[rnd.randrange(HOSTS)]
        team = team_of[host.pk]
        state = rnd.choice(states)
        kind = "container.create" if j < CONTAINERS else rnd.choice(kinds)
        when = now - timedelta(seconds=rnd.randrange(30 * 24 * 3600))
        t = teams.index(team)
        jobs.append(
            Job(
                kind=kind,
                host=host,
                team=team,
                requester=users[t * 3 + rnd.randrange(2)],
                params={"image": "busybox:latest", "cpus": 0.5, "memory": 64 * 2**20}
                if kind == "container.create"
                else {"container": f"{j:064x}"},
                state=state,
                created=when,
                started=None if state == "queued" else when + timedelta(seconds=1),
                finished=when + timedelta(seconds=5)
                if state not in ("queued", "running")
                else None,
                error="exit status 1" if state == "failed" else "",
                error_kind="host_error" if state == "failed" else "",
                message_id=f"m{j}",
                last_seq=LINES_PER_JOB if j % (JOBS // JOBS_WITH_OUTPUT) == 0 else 0,
            )
        )
    jobs = Job.objects.bulk_create(jobs, batch_size=2000)
    created.auto_now_add = True
    JobLine.objects.bulk_create(
        (
            JobLine(job=job, seq=s, stream="stdout", text=f"step {s} of job {job.pk}")
            for job in jobs
            if job.last_seq
            for s in range(1, LINES_PER_JOB + 1)
        ),
        batch_size=5000,
    )

    container_states = ["running"] * 60 + ["exited"] * 30 + ["created"] * 5 + ["paused"] * 5
    containers = []
    for c in range(CONTAINERS):
        job = jobs[c]  # the container.create jobs, one per container, on its host
        host = job.host
        containers.append(
            Container(
                host=host,
                team=None if c % 20 == 0 else job.team,
                engine_id=f"{c:064x}",
                name=f"app-{c:05}",
                image=f"registry.example/app{c % 50}:1.{c % 7}",
                image_id=f"sha256:{c % 500:064x}",
                command="/bin/sh -c 'serve --port 8080'",
                state=rnd.choice(container_states),
                health="unhealthy" if c % 97 == 0 else "healthy" if c % 3 == 0 else "",
                labels={"wharf.job": str(job.pk), "app": f"app{c % 50}", "tier": "web"},
                ports=[
                    {
                        "container_port": 8080,
                        "protocol": "tcp",
                        "host_ip": "0.0.0.0",
                        "host_port": 20000 + c,
                    },
                    {
                        "container_port": 53,
                        "protocol": "udp",
                        "host_ip": "127.0.0.1",
                        "host_port": 40000 + c % 9999,
                    },
                ],
                mounts=[
                    {
                        "type": "volume",
                        "name": f"data{c % 10}",
                        "source": "/v",
                        "destination": "/data",
                        "rw": True,
                    }
                ],
                networks=[
                    {
                        "name": "bridge",
                        "ip_address": f"172.19.{c // 250 % 250}.{c % 250 + 2}",
                        "mac_address": "02:42:ac:13:00:02",
                    }
                ],
                created=job.created,
                started=job.created,
                cpus=0.5,
                memory=64 * 2**20,
            )
        )
    Container.objects.bulk_create(containers, batch_size=2000)
    Image.objects.bulk_create(
        (
            Image(
                host=host,
                team=team_of[host.pk],
                engine_id=f"sha256:{h * IMAGES_PER_HOST + i:064x}",
                name=f"registry.example/app{i}:1.0",
                tags=[f"registry.example/app{i}:1.0", f"registry.example/app{i}:latest"],
                digests=[f"registry.example/app{i}@sha256:{i:064x}"],
                size=50_000_000 + i,
                labels={"maintainer": "ops"},
            )
            for h, host in enumerate(hosts)
            for i in range(IMAGES_PER_HOST)
        ),
        batch_size=2000,
    )
    Volume.objects.bulk_create(
        Volume(host=host, team=team_of[host.pk], engine_id=f"data{i}", name=f"data{i}", size=2**20)
        for host in hosts
        for i in range(VOLUMES_PER_HOST)
    )
    Network.objects.bulk_create(
        Network(
            host=host,
            team=team_of[host.pk],
            engine_id=f"{h * NETWORKS_PER_HOST + i:064x}",
            name=f"net{i}",
            driver="bridge",
            subnet=f"10.{h}.{i}.0/24",
        )
        for h, host in enumerate(hosts)
        for i in range(NETWORKS_PER_HOST)
    )
    AuditEntry.objects.bulk_create(
        (
            AuditEntry(
                actor=users[e % len(users)],
                actor_name=users[e % len(users)].username,
                action="job.create",
                object_type="job",
                object_id=str(jobs[e].pk),
                team=jobs[e].team,
                team_name=jobs[e].team.name,
                address="127.0.0.1",
                after={"kind": jobs[e].kind},
            )
            for e in range(AUDIT_ENTRIES)
        ),
        batch_size=5000,
    )

    admin = User.objects.create_user("scale-admin", password="!", is_staff=True)
    member = User.objects.create_user("scale-member", password="!")
    Membership.objects.bulk_create(
        [
            Membership(user=member, team=teams[0], role="admin"),
            Membership(user=member, team=teams[1], role="operator"),
        ]
    )
    readers = {}
    for who, user in (("fleet admin", admin), ("team member", member)):
        client = Client()
        client.force_login(user)
        _token, text = ApiToken.issue(user, "bench")
        readers[who] = {"session": client.cookies["sessionid"].value, "token": text}
    mine = [teams[0].pk, teams[1].pk]
    readers["fleet admin"]["counts"] = {
        "/api/v1/containers/": CONTAINERS,
        "/api/v1/jobs/": JOBS,
        "/api/v1/hosts/": HOSTS,
        "/api/v1/images/": HOSTS * IMAGES_PER_HOST,
    }
    readers["team member"]["counts"] = {
        "/api/v1/containers/": Container.objects.filter(team_id__in=mine).count(),
        "/api/v1/jobs/": Job.objects.filter(team_id__in=mine).count(),
        "/api/v1/hosts/": 2 * HOSTS_PER_TEAM,
        "/api/v1/images/": 2 * HOSTS_PER_TEAM * IMAGES_PER_HOST,
    }
    return readers


@contextlib.contextmanager
def server(env: dict) -> Iterator[str]:
    """The site under uvicorn on 127.0.0.1 (one process, as a small deployment runs it)."""
    port = free_port()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "uvicorn"),
            "webapp.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/login/", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the site did not start (exit {proc.returncode})")
            time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def measure(url: str, reader: dict, path: str, requests: int) -> list[float]:
    """Milliseconds of REQUESTS sequential GETs of PATH (after three to warm), each checked."""
    if path.startswith("/api/"):
        client = httpx.Client(base_url=url, headers={"Authorization": f"Token {reader['token']}"})
    else:
        client = httpx.Client(base_url=url, cookies={"sessionid": reader["session"]})
    times = []
    with client:
        for i in range(requests + 3):
            start = time.perf_counter()
            r = client.get(path)
            took = (time.perf_counter() - start) * 1000
            if r.status_code != 200:
                raise SystemExit(f"{path}: HTTP {r.status_code}: {r.text[:300]}")
            if path in reader["counts"] and r.json()["count"] != reader["counts"][path]:
                raise SystemExit(f"{path}: count {r.json()['count']}, not {reader['counts'][path]}")
            if i >= 3:
                times.append(took)
    return times


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres", action="store_true", help="start a PostgreSQL server of its own"
    )
    parser.add_argument(
        "--requests", type=int, default=50, help="timed requests per list and reader"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="wharf-scale-"))
    (tmp / "static").mkdir()
    try:
        with database(args, tmp) as db_url:
            env = {
                **os.environ,
                "PYTHONPATH": str(REPO),
                "WHARF_ENV": "test",
                "DJANGO_SETTINGS_MODULE": "webapp.settings",
                "DATABASE_URL": db_url,
                "DEBUG": "0",
                "STATIC_ROOT": str(tmp / "static"),
                "WHARF_UPLOAD_DIR": str(tmp / "uploads"),
                "LOG_LEVEL": "WARNING",
            }
            os.environ.update(env)
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
                cwd=REPO,
                env=env,
                check=True,
            )
            import django

            django.setup()
            from django.db import connection, connections

            from webapp import dbstats

            began = time.monotonic()
            readers = load()
            loaded = time.monotonic() - began
            # the planner's statistics, as the sweeper keeps them (SQLite) or autovacuum would
            # soon after a bulk load (PostgreSQL: with the visibility map, for index-only counts)
            if not dbstats.refresh():
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
            connections.close_all()
            print(f"{machine()}; {connection.vendor}; loaded in {loaded:.1f} s")
            rows, failed = [], False
            with server(env) as url:
                for path in URLS:
                    for who, reader in readers.items():
                        times = measure(url, reader, path, args.requests)
                        row = (path, who, statistics.median(times), p95(times), max(times))
                        failed |= row[3] >= TARGET_MS
                        rows.append(row)
            print(f"{'list':<22} {'reader':<12} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
            for path, who, p50, p95_, top in rows:
                mark = "" if p95_ < TARGET_MS else "  <- over"
                print(f"{path:<22} {who:<12} {p50:8.1f} {p95_:8.1f} {top:8.1f}{mark}")
            averages = " / ".join(f"{n:.2f}" for n in os.getloadavg())
            print(
                f"{'FAIL' if failed else 'PASS'}: every p95 under {TARGET_MS:.0f} ms (load average {averages})"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
