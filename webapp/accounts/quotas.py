"""Per-team quotas, checked when a container is asked for: before a job is queued, never after.

What a team holds is its containers in the inventory (a record made through
the site carries ``wharf.job=<job>``, whose parameters hold the CPUs and memory
it asked for) plus its ``container.create`` jobs not ended yet that have no
record (asked through the jobs API). Volume storage is recorded in the quota
but not checked yet: the inventory does not measure volumes' sizes.
"""

from __future__ import annotations

from webapp.accounts.models import Quota, Team
from webapp.errors import Invalid


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:g} {unit}" if unit == "bytes" else f"{n:.4g} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def in_use(team: Team) -> dict[str, float]:
    """The team's containers, and the CPUs and memory they asked for."""
    from webapp.inventory.models import Container
    from webapp.inventory.services import JOB_LABEL
    from webapp.jobs.choices import ACTIVE_STATES, JobKind
    from webapp.jobs.models import Job

    labels = Container.objects.filter(team=team).values_list("labels", flat=True)
    made_by = [str(label.get(JOB_LABEL, "")) for label in labels]
    job_ids = {int(j) for j in made_by if j.isdigit()}
    pending = Job.objects.filter(
        team=team, kind=JobKind.CONTAINER_CREATE, state__in=ACTIVE_STATES
    ).exclude(pk__in=job_ids)
    asked = Job.objects.filter(pk__in=job_ids).values_list("params", flat=True)
    params = [*asked, *pending.values_list("params", flat=True)]
    return {
        "containers": len(made_by) + pending.count(),
        "cpus": sum(float(p.get("cpus") or 0) for p in params),
        "memory": sum(int(p.get("memory") or 0) for p in params),
    }


def check_container(team: Team, params: dict) -> None:
    """Refuse a new container over one of TEAM's limits, saying which and by how much."""
    quota = Quota.objects.filter(team=team).first()
    if quota is None or not (quota.containers or quota.cpus or quota.memory):
        return
    used = in_use(team)
    asks = {"containers": 1, "cpus": params.get("cpus") or 0, "memory": params.get("memory") or 0}
    for field, what, show in (
        ("containers", "containers", lambda n: f"{n:g}"),
        ("cpus", "CPUs", lambda n: f"{n:g}"),
        ("memory", "memory", _size),
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
