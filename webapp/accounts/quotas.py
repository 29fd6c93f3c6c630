"""Per-team quotas, checked when a container or a volume is asked for: before a job is queued.

What a team holds is its containers in the inventory (a record made through
the site carries ``wharf.job=<job>``, whose parameters hold the CPUs and memory
it asked for) plus its ``container.create`` jobs not ended yet that have no
record (asked through the jobs API); and the bytes of its volumes, as their
hosts last measured them (``Volume.size``, from each reconcile).

The check runs inside the transaction that records the job, holding a lock
on the team's quota row (``select_for_update``), so two requests at once are
counted one after the other: the second sees the first's job, and both cannot
pass where only one fits. (SQLite has no row locks; the site's SQLite
transactions take the database's write lock when they begin, which orders
them the same way.)
"""

from __future__ import annotations

from django.db.models import Sum

from webapp.accounts.models import Quota, Team
from webapp.errors import Invalid


def size_text(n: float) -> str:
    """N bytes as a person reads them: 512 MiB, 1.5 GiB."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:g} {unit}" if unit == "bytes" else f"{n:.4g} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def in_use(team: Team) -> dict[str, float]:
    """The team's containers, the CPUs and memory they asked for, and its volumes' bytes."""
    return in_use_of([team.pk])[team.pk]


#: ids per query when jobs are read by id (under SQLite's limit of bound parameters)
_CHUNK = 5000


def in_use_of(team_ids: list[int]) -> dict[int, dict[str, float]]:
    """``in_use`` of each of TEAM_IDS in five queries, however many teams and containers.

    A container's job comes from its ``wharf.job`` label, read in the database
    (only that key, not every label of every container).
    """
    from django.db.models.fields.json import KeyTextTransform

    from webapp.inventory.models import Container, Volume
    from webapp.inventory.services import JOB_LABEL
    from webapp.jobs.choices import ACTIVE_STATES, JobKind
    from webapp.jobs.models import Job

    made_by: dict[int, list[str]] = {pk: [] for pk in team_ids}
    rows = (
        Container.objects.filter(team_id__in=team_ids)
        .annotate(made_by=KeyTextTransform(JOB_LABEL, "labels"))
        .order_by()
        .values_list("team_id", "made_by")
    )
    for team_id, job in rows:
        made_by[team_id].append(str(job if job is not None else ""))
    job_ids = {pk: {int(j) for j in jobs if j.isdigit()} for pk, jobs in made_by.items()}
    # only the two numbers of each job's parameters, not every parameter of every job;
    # no order: the newest-first index would have the database walk every job
    asks = {
        "cpus": KeyTextTransform("cpus", "params"),
        "memory": KeyTextTransform("memory", "params"),
    }
    wanted = sorted(set().union(*job_ids.values()))
    asked: dict[int, tuple] = {}
    for at in range(0, len(wanted), _CHUNK):
        chosen = Job.objects.filter(pk__in=wanted[at : at + _CHUNK]).annotate(**asks).order_by()
        asked.update((pk, (cpus, memory)) for pk, cpus, memory in chosen.values_list("pk", *asks))
    pending: dict[int, list[tuple]] = {pk: [] for pk in team_ids}
    active = (
        Job.objects.filter(
            team_id__in=team_ids, kind=JobKind.CONTAINER_CREATE, state__in=ACTIVE_STATES
        )
        .annotate(**asks)
        .order_by()
        .values_list("team_id", "pk", *asks)
    )
    for team_id, pk, cpus, memory in active:
        if pk not in job_ids[team_id]:
            pending[team_id].append((cpus, memory))
    storage = dict(
        Volume.objects.filter(team_id__in=team_ids)
        .values_list("team_id")
        .annotate(n=Sum("size"))
        .order_by()
    )
    use = {}
    for pk in team_ids:
        params = [*(asked[j] for j in job_ids[pk] if j in asked), *pending[pk]]
        use[pk] = {
            "containers": len(made_by[pk]) + len(pending[pk]),
            "cpus": sum(float(cpus or 0) for cpus, _ in params),
            "memory": int(sum(float(memory or 0) for _, memory in params)),
            "storage": storage.get(pk) or 0,
        }
    return use


#: the limits a quota sets, in the order pages and the API show them
LIMITS = ("containers", "cpus", "memory", "storage")


def quota_use(team: Team) -> dict[str, dict]:
    """TEAM's limits (None: no limit) and what it holds against each, as the teams API reads them."""
    return quota_uses([team.pk])[team.pk]


def quota_uses(team_ids: list[int]) -> dict[int, dict[str, dict]]:
    """``quota_use`` of each of TEAM_IDS, in six queries however many teams (lists, the dashboard)."""
    quotas = {q.team_id: q for q in Quota.objects.filter(team_id__in=team_ids)}
    used = in_use_of(team_ids)
    return {
        pk: {
            "limits": {f: getattr(quotas.get(pk), f, None) for f in LIMITS},
            "in_use": used[pk],
        }
        for pk in team_ids
    }


def check(team: Team, kind: str, params: dict) -> None:
    """Refuse a new container or volume over one of TEAM's limits, saying which and by how much.

    Call it inside the transaction that records the job: it locks the team's
    quota row until that transaction ends.
    """
    from webapp.jobs.choices import JobKind

    if kind not in (JobKind.CONTAINER_CREATE, JobKind.VOLUME_CREATE):
        return
    quota = Quota.objects.select_for_update().filter(team=team).first()
    if quota is None or not (quota.containers or quota.cpus or quota.memory or quota.storage):
        return
    used = in_use(team)
    if quota.storage and used["storage"] >= quota.storage:
        show = size_text
        message = f"team {team.name}: {show(used['storage'])} of {show(quota.storage)} volume storage in use"
        over = used["storage"] - quota.storage
        message += (
            f"; {show(over)} over the quota of {show(quota.storage)}"
            if over
            else f"; the quota is {show(quota.storage)}"
        )
        raise Invalid(message, field="team")
    if kind != JobKind.CONTAINER_CREATE:
        return
    asks = {"containers": 1, "cpus": params.get("cpus") or 0, "memory": params.get("memory") or 0}
    for field, what, show in (
        ("containers", "containers", lambda n: f"{n:g}"),
        ("cpus", "CPUs", lambda n: f"{n:g}"),
        ("memory", "memory", size_text),
    ):
        limit = getattr(quota, field)
        if not limit or not asks[field] or used[field] + asks[field] <= limit:
            continue
        message = f"team {team.name}: {show(used[field])} of {show(limit)} {what} in use"
        if field == "containers":
            message += f"; the quota is {show(limit)}"
        else:
            over = used[field] + asks[field] - limit
            message += f"; this asks {show(asks[field])} more, {show(over)} over the quota of {show(limit)}"
        raise Invalid(message, field=field if field != "containers" else "team")
