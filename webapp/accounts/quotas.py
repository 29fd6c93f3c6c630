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

from typing import Any

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


def in_use_of(team_ids: list[int]) -> dict[int, dict[str, float]]:
    """``in_use`` of each of TEAM_IDS in four queries, summed by the database however many
    teams, containers and jobs.

    A container's job is named by its ``wharf.job`` label; the join compares that
    text with the job's id as text (a label anyone may have set is never cast).
    """
    from django.db.models import CharField, Count, FloatField
    from django.db.models.fields.json import KeyTextTransform
    from django.db.models.functions import Cast, Coalesce

    from webapp.inventory.models import Container, Volume
    from webapp.inventory.services import JOB_LABEL
    from webapp.jobs.choices import ACTIVE_STATES, JobKind
    from webapp.jobs.models import Job

    containers = dict(
        Container.objects.filter(team_id__in=team_ids)
        .values_list("team_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    made_by = (
        Container.objects.filter(team_id__in=team_ids)
        .annotate(made_by=KeyTextTransform(JOB_LABEL, "labels"))
        .exclude(made_by=None)
        .values("made_by")
    )
    creates = Job.objects.filter(team_id__in=team_ids, kind=JobKind.CONTAINER_CREATE).annotate(
        key=Cast("id", CharField())
    )
    asked = {
        "jobs": Count("id"),
        "cpus": Coalesce(Sum(Cast(KeyTextTransform("cpus", "params"), FloatField())), 0.0),
        "memory": Coalesce(Sum(Cast(KeyTextTransform("memory", "params"), FloatField())), 0.0),
    }

    def per_team(jobs: Any) -> dict[int, tuple]:
        rows = jobs.order_by().values("team_id").annotate(**asked)
        return {r["team_id"]: (r["jobs"], r["cpus"], r["memory"]) for r in rows}

    holding = per_team(creates.filter(key__in=made_by))
    # asked through the jobs API and not made yet: counted until they end
    pending = per_team(creates.filter(state__in=ACTIVE_STATES).exclude(key__in=made_by))
    storage = dict(
        Volume.objects.filter(team_id__in=team_ids)
        .values_list("team_id")
        .annotate(n=Sum("size"))
        .order_by()
    )
    use = {}
    for pk in team_ids:
        _, cpus, memory = holding.get(pk, (0, 0.0, 0.0))
        waiting, wait_cpus, wait_memory = pending.get(pk, (0, 0.0, 0.0))
        use[pk] = {
            "containers": (containers.get(pk) or 0) + waiting,
            "cpus": float(cpus) + float(wait_cpus),
            "memory": int(float(memory) + float(wait_memory)),
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
