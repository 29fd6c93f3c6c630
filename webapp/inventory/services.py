"""Make the site's inventory follow the hosts: apply events, reconcile snapshots, adopt, go unknown.

A host reports in two ways (``webapp.inventory.hostapi``):

- **changes**: the objects touched by its events ``after`` < id <= ``cursor``,
  each as it is now or gone. The site applies a batch only if ``after`` is
  the cursor it stored, in one transaction with the new cursor, so a batch
  that is retried (the answer was lost) or sent twice is not applied twice,
  and a worker that restarts resumes from the stored cursor;
- **snapshot**: everything the host has, read after event ``cursor``; the
  database is made to match it (new objects appear unmanaged, missing ones
  go) and the cursor becomes the snapshot's.

Every object that changes is published to browsers after the commit
(``webapp.jobs.publish``), to the group of its team and to the admins' group.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from webapp.errors import Conflict
from webapp.fleet.models import Host
from webapp.inventory.choices import ContainerState, Kind
from webapp.inventory.models import MODELS, Container, HostObject, Image, InventoryCursor
from webapp.jobs.publish import announce


def _announce(obj: HostObject, action: str) -> None:
    """Publish ACTION ("changed" or "removed") of OBJ to the browsers that may see it."""
    from webapp.inventory.api.serializers import SERIALIZERS

    if action == "removed":
        data = {"id": obj.pk, "engine_id": obj.engine_id, "host": obj.host.name}
    else:
        data = SERIALIZERS[type(obj)](obj).data
    announce(obj.kind, data, [obj.team_id] if obj.team_id else [], action)


def _hold(host_id: int) -> None:
    """Hold the host's row until the transaction ends: the host's reports, and its jobs'
    ends (``settle_job``), are applied one at a time, each seeing what the other wrote."""
    list(Host.objects.select_for_update().filter(pk=host_id).values_list("pk", flat=True))


def _cursor(host: Host) -> InventoryCursor:
    """The host's cursor row, the host held until the transaction ends (``_hold``)."""
    _hold(host.pk)
    return InventoryCursor.objects.get_or_create(host=host)[0]


def needs_resync(host: Host) -> bool:
    """True when the site lost track of the host (its containers went unknown): send a snapshot."""
    return Container.objects.filter(host=host, state=ContainerState.UNKNOWN).exists()


def cursor_of(host: Host) -> dict:
    row = InventoryCursor.objects.filter(host=host).first()
    return {"cursor": row.cursor if row else 0, "resync": row is None or needs_resync(host)}


#: the label the host's worker puts on what a job makes (worker.jobs.engine.JOB_LABEL)
JOB_LABEL = "wharf.job"
#: the engine id of a record whose object a job is still making
PENDING = "pending-"


def pending_id(job_id: int) -> str:
    return f"{PENDING}{job_id}"


def _made_by_job(
    host: Host, model: type[HostObject], record: dict
) -> tuple[HostObject | None, object]:
    """For an object new to the site: the record its job promised, and the job's team.

    What a job made belongs to the job's team (never unmanaged), and takes
    the place of the pending record the create request answered with.
    """
    from webapp.jobs.models import Job

    value = (record.get("labels") or {}).get(JOB_LABEL, "")
    job = (
        Job.objects.filter(pk=int(value), host=host).select_related("team").first()
        if value.isdigit()
        else None
    )
    if job is None and model is Image:
        job = image_job(host, record["engine_id"])
        return None, job.team if job else None
    if job is None:
        return None, None
    promised = model.objects.select_related("host").filter(host=host, engine_id=pending_id(job.pk))
    return promised.first(), job.team


#: the job kinds whose result names an image they made (pull, build, load, import, commit)
IMAGE_MAKERS = (
    "image.pull",
    "image.build",
    "image.load",
    "image.import",
    "container.commit",
)


def image_job(host: Host, engine_id: str) -> object:
    """The earliest succeeded job of HOST that made image ENGINE_ID (its result names it).

    An image carries no job label (its config is its content), so what a job
    made is known by the job's result: it belongs to that job's team.
    """
    from webapp.jobs.choices import JobState
    from webapp.jobs.models import Job

    made = Job.objects.filter(
        host=host, kind__in=IMAGE_MAKERS, state=JobState.SUCCEEDED, result__image=engine_id
    )
    return made.select_related("team").order_by("pk").first()


def _upsert(
    host: Host, model: type[HostObject], record: dict, existing: HostObject | None
) -> HostObject:
    team = None
    if existing is None:
        existing, team = _made_by_job(host, model, record)
    obj = existing or model(host=host, engine_id=record["engine_id"], team=team)
    changed = existing is None or existing.engine_id != record["engine_id"]
    for field, value in record.items():
        if getattr(obj, field) != value:
            setattr(obj, field, value)
            changed = True
    if changed:
        obj.save()
        _announce(obj, "changed")
    return obj


def _remove(obj: HostObject) -> None:
    pk = obj.pk
    obj.delete()
    obj.pk = pk  # the browsers are told which row went
    _announce(obj, "removed")


def apply_changes(host: Host, after: int, cursor: int, changes: list[dict]) -> dict:
    """Apply one batch of a host's changes (``reports.ChangesIn``); return the stored cursor.

    Raises Conflict when ``after`` is not the stored cursor: the host then
    asks for the cursor and resumes from there.
    """
    with transaction.atomic():
        row = _cursor(host)
        if row.cursor != after:
            raise Conflict(
                f"this batch follows event {after}, the site has applied up to {row.cursor}",
                field="after",
            )
        for change in changes:
            model = MODELS[change["kind"]]
            existing = (
                model.objects.select_related("host")
                .filter(host=host, engine_id=change["engine_id"])
                .first()
            )
            if change["object"] is not None:
                _upsert(host, model, change["object"], existing)
            elif existing is not None:
                _remove(existing)
        row.cursor = cursor
        row.save(update_fields=["cursor"])
    return {"cursor": cursor, "resync": needs_resync(host)}


def apply_snapshot(host: Host, cursor: int, snapshot: dict) -> dict:
    """Make the host's inventory match SNAPSHOT (``reports.SnapshotIn``); return the cursor.

    Objects the site did not know appear unmanaged; objects the host no
    longer has go; the rest are brought up to date and keep their team.
    """
    plural = {
        Kind.CONTAINER: "containers",
        Kind.IMAGE: "images",
        Kind.VOLUME: "volumes",
        Kind.NETWORK: "networks",
    }
    with transaction.atomic():
        row = _cursor(host)
        for kind, model in MODELS.items():
            known = {o.engine_id: o for o in model.objects.select_related("host").filter(host=host)}
            for record in snapshot[plural[kind]]:
                existing = known.pop(record["engine_id"], None)
                if existing is None:
                    job = (record.get("labels") or {}).get(JOB_LABEL, "")
                    known.pop(pending_id(int(job)) if job.isdigit() else "", None)
                _upsert(host, model, record, existing)
            for gone in known.values():
                if not _still_promised(gone):
                    _remove(gone)
        row.cursor = cursor
        row.reconciled = timezone.now()
        row.save(update_fields=["cursor", "reconciled"])
    return {"cursor": cursor, "resync": False}


def _still_promised(obj: HostObject) -> bool:
    """A pending record whose job has not ended yet: the host cannot have reported it."""
    from webapp.jobs.choices import ACTIVE_STATES
    from webapp.jobs.models import Job

    if not obj.engine_id.startswith(PENDING):
        return False
    job_id = obj.engine_id.removeprefix(PENDING)
    return Job.objects.filter(pk=int(job_id), state__in=ACTIVE_STATES).exists()


def settle_job(job: object) -> None:
    """A job ended: the record it promised gets its engine id, or goes if nothing was made.

    (The host's report of the object, if it came first, has taken the
    record's place already; then there is nothing left to do.)
    """
    from webapp.jobs.choices import JobState

    result = job.result or {}
    made = result.get("container") if job.state == JobState.SUCCEEDED else None
    image = result.get("image") if job.state == JobState.SUCCEEDED else None
    with transaction.atomic():
        # after the host's report in flight, if any: a report that looked for the image's
        # job before this one ended stores the image unmanaged, and this must see it (else,
        # on PostgreSQL, neither saw the other and the image stayed nobody's)
        _hold(job.host_id)
        if image and job.kind in IMAGE_MAKERS:
            # reported before the job ended: unmanaged until now, the job's team's from now
            for obj in Image.objects.select_related("host").filter(
                host_id=job.host_id, engine_id=image, team__isnull=True
            ):
                obj.team_id = job.team_id
                obj.save(update_fields=["team", "updated"])
                _announce(obj, "changed")
        for model in MODELS.values():
            for obj in model.objects.select_related("host").filter(
                host_id=job.host_id, engine_id=pending_id(job.pk)
            ):
                if (
                    made
                    and isinstance(obj, Container)
                    and not Container.objects.filter(host_id=job.host_id, engine_id=made).exists()
                ):
                    obj.engine_id = made
                    obj.state = result.get("state") or obj.state
                    obj.save(update_fields=["engine_id", "state", "updated"])
                    _announce(obj, "changed")
                else:
                    _remove(obj)


def mark_unknown(host_name: str) -> int:
    """A host stopped beating: its containers' states are unknown until it reports again.

    Returns how many containers changed. Never leaves one "running" that
    nobody can vouch for.
    """
    with transaction.atomic():
        stale = list(
            Container.objects.select_related("host")
            .filter(host__name=host_name)
            .exclude(state=ContainerState.UNKNOWN)
        )
        for obj in stale:
            obj.state = ContainerState.UNKNOWN
            obj.save(update_fields=["state", "updated"])
            _announce(obj, "changed")
    return len(stale)


def adopt(obj: HostObject, team: object, user: object = None) -> HostObject:
    """Give an object to TEAM (an admin's act, USER's): it is managed from now on."""
    from webapp.audit.services import record

    with transaction.atomic():
        before = obj.team.slug if obj.team_id else None
        type(obj).objects.filter(pk=obj.pk).update(team=team)
        obj.refresh_from_db()
        record(
            f"{obj._meta.model_name}.adopt",
            obj,
            actor=user,
            team=team,
            before={"team": before},
            after={"team": team.slug, "host": obj.host.name, "engine_id": obj.engine_id},
        )
        _announce(obj, "changed")
    return obj
