"""What a team asks of its objects on the hosts: each request is a job, answered at once.

A create answers with the record before the host has made anything: its
``engine_id`` is ``pending-<job>`` until the host reports the object made by
that job (it carries the label ``wharf.job=<job>``), and the record goes if
the job ends without making it. Every other action names an object the site
knows; an object still pending or unmanaged (no team) takes no action yet.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from webapp.accounts.models import Team
from webapp.errors import Conflict, Forbidden, Invalid
from webapp.fleet.models import Host
from webapp.inventory.choices import ContainerState
from webapp.inventory.models import Container, HostObject, Image
from webapp.inventory.services import JOB_LABEL, PENDING, pending_id
from webapp.jobs import grammar
from webapp.jobs.choices import JobKind
from webapp.jobs.models import Job
from webapp.jobs.services import check_create_job, do_create_job
from webapp.permissions import RUN, is_fleet_admin


def start_job(user: object, kind: str, host: Host, team: object, params: dict) -> Job:
    team, checked = check_create_job(user, kind, host, team, params)
    return do_create_job(user, kind, host, team, checked)


def room(hosts: list[Host]) -> dict[int, tuple[float, int]]:
    """Each host's room: its CPUs and memory (its facts) less the limits of the containers
    that run there or are being made for it (a pending record counts: its job will run it)."""
    left = {
        h.pk: (float(h.facts.get("cpus") or 0), int(h.facts.get("memory_bytes") or 0))
        for h in hosts
    }
    busy = Container.objects.filter(host__in=hosts).filter(
        Q(state__in=(ContainerState.RUNNING, ContainerState.PAUSED, ContainerState.RESTARTING))
        | Q(engine_id__startswith=PENDING)
    )
    for host_id, cpus, memory in busy.values_list("host_id", "cpus", "memory"):
        c, m = left[host_id]
        left[host_id] = (c - cpus, m - memory)
    return left


def place(
    user: object, image: str = "", cpus: float = 0, memory: int = 0, team: object = None
) -> Host:
    """Pick a host for new work: granted to the team (its user's first if None), reachable,
    not cordoned, with room for CPUS and MEMORY (``room``), the image there if can be.

    Among those, the one running the fewest containers.
    """
    hosts = Host.objects.for_user(user, RUN)
    team = team or Team.objects.for_user(user, RUN).order_by("name").first()
    if team is not None and not is_fleet_admin(user):
        hosts = hosts.granted_to(team)
    schedulable = [h for h in hosts.order_by("name") if h.schedulable]
    left = room(schedulable)
    # a request without a limit fits any host; one with limits needs that much room left
    candidates = [
        h
        for h in schedulable
        if (not cpus or left[h.pk][0] >= cpus) and (not memory or left[h.pk][1] >= memory)
    ]
    if not candidates:
        raise Invalid(
            "no host can take this: none is online, uncordoned and has room for "
            f"{cpus:g} CPUs and {memory} bytes of memory beside what runs there",
            field="host",
        )

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
            cpus=params.get("cpus") or 0,
            memory=params.get("memory") or 0,
        )
    return container, job


def act(user: object, obj: HostObject, kind: str, **params: object) -> Job:
    """Run KIND on a known object of a host (start a container, remove an image...)."""
    if obj.engine_id.startswith(PENDING):
        raise Conflict(f"{obj.kind} {obj.pk} is still being made: wait for its job")
    if obj.team_id is None:
        raise Conflict(f"{obj.kind} {obj.pk} is unmanaged: an admin adopts it into a team first")
    return start_job(user, kind, obj.host, obj.team, params)


def prune(user: object, host: Host, kind: str, params: dict) -> Job:
    """Prune a host's unused objects: every team's, so for fleet admins only."""
    if not is_fleet_admin(user):
        raise Forbidden(
            "a prune removes every team's unused objects on the host: fleet admins only"
        )
    return start_job(user, kind, host, None, params)


#: the names Docker Hub goes by, as a registry's host
HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")


def push_image(user: object, image: Image, tag: str = "", registry: object = None) -> Job:
    """Push IMAGE as TAG (default: its name) with the credentials of REGISTRY, or of the
    image's team's registry for the tag's host (else the fleet-wide one), if it has any.

    A tag that names no registry goes to REGISTRY's host; one that names another
    host than REGISTRY's is a field error. The job's parameters hold the registry's
    id only: its credentials reach the host with the job's claim (``registries``).
    """
    from webapp.registries.models import Registry
    from webapp.registries.services import registry_for

    target = tag or image.name
    if not target:
        raise Invalid(f"image {image.pk} has no name: give the tag to push it as", field="tag")
    if image.team_id is None:
        act(user, image, JobKind.IMAGE_PUSH)  # says why (unmanaged) before anything else
    domain = grammar.reference_registry(target)
    if registry is not None:
        if not Registry.objects.usable_by(image.team).filter(pk=registry.pk).exists():
            raise Invalid(
                f"registry {registry.pk} is not one team {image.team} may use", field="registry"
            )
        if not domain:
            target = f"{registry.host}/{target}"
        elif domain != registry.host:
            raise Invalid(
                f"{target} names registry {domain}, not {registry.name} ({registry.host})",
                field="tag",
            )
    else:
        hosts = (domain,) if domain else HUB_HOSTS
        registry = next((r for h in hosts if (r := registry_for(image.team, h)) is not None), None)
    params = {"image": image.engine_id, "target": target}
    if registry is not None:
        params["registry"] = registry.pk
    return act(user, image, JobKind.IMAGE_PUSH, **params)


def start_with_upload(
    user: object, kind: str, host: Host, team: object, params: dict, upload: object = None
) -> Job:
    """Start a job whose host fetches UPLOAD (``uploads.StoredUpload``) while it runs it.

    The upload becomes the job's in the transaction that records the job, so a
    refused request (a field error, a quota) keeps nothing: Django removes the
    request's files when it ends.
    """
    with transaction.atomic():
        job = start_job(user, kind, host, team, {**params, "upload": upload is not None})
        if upload is not None:
            upload.keep_for(job.pk)
    return job


def build_image(user: object, checked: dict) -> Job:
    """Build on a host from ``BuildIn``'s checked data (the API's and the page's form alike):
    the context, if any, is kept for the job and fetched by its host; steps are its output."""
    data = dict(checked)
    host, team, context = data.pop("host"), data.pop("team", None), data.pop("context", None)
    params = {
        "tags": data.pop("tag", []),
        "build_args": data.pop("build_args", {}),
        **{k: v for k, v in data.items() if v not in (None, "")},
    }
    return start_with_upload(user, JobKind.IMAGE_BUILD, host, team, params, context)
