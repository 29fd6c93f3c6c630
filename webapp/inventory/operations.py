"""What a team asks of its objects on the hosts: each request is a job, answered at once.

A create answers with the record before the host has made anything: its
``engine_id`` is ``pending-<job>`` until the host reports the object made by
that job (it carries the label ``wharf.job=<job>``), and the record goes if
the job ends without making it. Every other action names an object the site
knows; an object still pending or unmanaged (no team) takes no action yet.
"""

from __future__ import annotations

from django.db import transaction

from webapp.accounts.models import Team
from webapp.errors import Conflict, Invalid
from webapp.fleet.models import Host
from webapp.inventory.choices import ContainerState
from webapp.inventory.models import Container, HostObject
from webapp.inventory.services import JOB_LABEL, PENDING, pending_id
from webapp.jobs.choices import JobKind
from webapp.jobs.models import Job
from webapp.jobs.services import check_create_job, do_create_job
from webapp.permissions import RUN, is_fleet_admin


def start_job(user: object, kind: str, host: Host, team: object, params: dict) -> Job:
    team, checked = check_create_job(user, kind, host, team, params)
    return do_create_job(user, kind, host, team, checked)


def place(
    user: object, image: str = "", cpus: float = 0, memory: int = 0, team: object = None
) -> Host:
    """Pick a host for new work: granted to the team (its user's first if None), reachable,
    not cordoned, big enough, the image there if can be.

    Among those, the one running the fewest containers.
    """
    hosts = Host.objects.for_user(user, RUN)
    team = team or Team.objects.for_user(user, RUN).order_by("name").first()
    if team is not None and not is_fleet_admin(user):
        hosts = hosts.granted_to(team)
    candidates = [
        h
        for h in hosts.order_by("name")
        if h.schedulable
        and (h.facts.get("cpus") or 0) >= cpus
        and (h.facts.get("memory_bytes") or 0) >= memory
    ]
    if not candidates:
        raise Invalid(
            "no host can take this: none is online, uncordoned and large enough", field="host"
        )
    from webapp.inventory.models import Image

    wanted = image if ":" in image.rsplit("/", 1)[-1] or "@" in image else f"{image}:latest"
    having = {
        i.host_id for i in Image.objects.filter(host__in=candidates) if wanted in (i.tags or [])
    }
    load = {h.pk: 0 for h in candidates}
    for c in Container.objects.filter(host__in=candidates, state=ContainerState.RUNNING):
        load[c.host_id] += 1
    return min(candidates, key=lambda h: (h.pk not in having, load[h.pk], h.name))


def run_container(
    user: object, host: Host | None, team: object, params: dict
) -> tuple[Container, Job]:
    """Create (and by default start) a container: the record at once, the container by a job."""
    if host is None:
        host = place(
            user, params["image"], params.get("cpus") or 0, params.get("memory") or 0, team
        )
    with transaction.atomic():
        job = start_job(user, JobKind.CONTAINER_CREATE, host, team, params)
        container = Container.objects.create(
            host=host,
            team=job.team,
            engine_id=pending_id(job.pk),
            name=params.get("name", ""),
            image=params["image"],
            command=" ".join(params.get("command") or []),
            state=ContainerState.CREATED,
            labels={**(params.get("labels") or {}), JOB_LABEL: str(job.pk)},
        )
    return container, job


def act(user: object, obj: HostObject, kind: str, **params: object) -> Job:
    """Run KIND on a known object of a host (start a container, remove an image...)."""
    if obj.engine_id.startswith(PENDING):
        raise Conflict(f"{obj.kind} {obj.pk} is still being made: wait for its job")
    if obj.team_id is None:
        raise Conflict(f"{obj.kind} {obj.pk} is unmanaged: an admin adopts it into a team first")
    return start_job(user, kind, obj.host, obj.team, params)
