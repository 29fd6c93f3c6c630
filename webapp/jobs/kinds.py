"""Every job kind in one registry: its parameters, the team action it needs, its retry rule.

A kind's parameters are checked at enqueue by a typed, size-limited
serializer, never later on the host; ``retry_safe`` says whether a run whose
worker was lost may simply run again (the runtime finds its earlier work by
the job's idempotency key) or must end as failed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from rest_framework import serializers

from webapp.jobs.choices import JobKind


class NoParams(serializers.Serializer):
    """A kind that takes no parameters refuses any it is given."""

    def to_internal_value(self, data: object) -> dict:
        if data not in (None, {}):
            raise serializers.ValidationError("this job kind takes no parameters")
        return {}


@dataclass(frozen=True)
class Kind:
    name: str
    params: type[serializers.Serializer]
    #: the membership action it needs ("run" for operators and admins, "view" for anyone)
    action: str = "run"
    retry_safe: bool = False
    #: soft limit in seconds; the hard limit is a minute later
    time_limit: int = 3600

    def limit_for(self, params: dict) -> int:
        """The job's soft limit: its own where the kind's parameters take one (bounded there)."""
        return int(params.get("time_limit") or self.time_limit)


class SleepParams(serializers.Serializer):
    seconds = serializers.FloatField(min_value=0, max_value=600)
    lines = serializers.IntegerField(min_value=0, max_value=100_000, default=0)
    #: keep sleeping through the soft time limit (to meet the hard one)
    ignore_soft_limit = serializers.BooleanField(default=False)
    #: the soft limit of this one job, instead of the kind's
    time_limit = serializers.IntegerField(min_value=1, max_value=600, required=False)


def _runtime_kinds() -> list[Kind]:
    """Every runtime operation a team may run on a host.

    ``retry_safe``: a run whose worker was lost may run again because doing it
    twice has the effect of doing it once (a create finds the container its
    first run made by the job's label; a pull or a stop of what is already
    there is done; a push of what the registry has is done). Removing, renaming, exec and commit are not: a second run
    could act on something else or twice.
    """
    from webapp.jobs import params as p

    k = JobKind
    safe = True
    return [
        Kind(k.IMAGE_PULL, p.ImagePull, retry_safe=safe),
        Kind(k.IMAGE_PUSH, p.ImagePush, retry_safe=safe),
        Kind(k.IMAGE_BUILD, p.ImageBuild),
        Kind(k.IMAGE_LOAD, p.ImageLoad, time_limit=1800),
        Kind(k.IMAGE_IMPORT, p.ImageImport, time_limit=1800),
        Kind(k.IMAGE_TAG, p.ImageTag, retry_safe=safe, time_limit=300),
        Kind(k.IMAGE_REMOVE, p.ImageRemove, time_limit=300),
        Kind(k.IMAGE_PRUNE, p.Prune, time_limit=600),
        Kind(k.CONTAINER_CREATE, p.ContainerCreate, retry_safe=safe, time_limit=600),
        Kind(k.CONTAINER_START, p.ContainerRef, retry_safe=safe, time_limit=300),
        Kind(k.CONTAINER_STOP, p.ContainerStop, retry_safe=safe, time_limit=3700),
        Kind(k.CONTAINER_RESTART, p.ContainerStop, time_limit=3700),
        Kind(k.CONTAINER_KILL, p.ContainerKill, time_limit=300),
        Kind(k.CONTAINER_PAUSE, p.ContainerRef, retry_safe=safe, time_limit=300),
        Kind(k.CONTAINER_UNPAUSE, p.ContainerRef, retry_safe=safe, time_limit=300),
        Kind(k.CONTAINER_RENAME, p.ContainerRename, time_limit=300),
        Kind(k.CONTAINER_REMOVE, p.ContainerRemove, time_limit=600),
        Kind(k.CONTAINER_EXEC, p.ContainerExec),
        Kind(k.CONTAINER_COMMIT, p.ContainerCommit),
        Kind(k.CONTAINER_PRUNE, NoParams, time_limit=600),
        Kind(k.VOLUME_CREATE, p.VolumeCreate, retry_safe=safe, time_limit=300),
        Kind(k.VOLUME_REMOVE, p.VolumeRemove, time_limit=300),
        Kind(k.VOLUME_PRUNE, p.Prune, time_limit=600),
        Kind(k.NETWORK_CREATE, p.NetworkCreate, retry_safe=safe, time_limit=300),
        Kind(k.NETWORK_REMOVE, p.NetworkRef, time_limit=300),
        Kind(k.NETWORK_PRUNE, NoParams, time_limit=300),
        Kind(k.NETWORK_CONNECT, p.NetworkConnect, time_limit=300),
        Kind(k.NETWORK_DISCONNECT, p.NetworkDisconnect, time_limit=300),
        # reads: their result is the answer (a page shows it); running one again is harmless
        Kind(k.IMAGE_HISTORY, p.ImageRef, retry_safe=safe, time_limit=120),
        Kind(k.VOLUME_FILES, p.VolumeFiles, retry_safe=safe, time_limit=120),
    ]


KINDS: dict[str, Kind] = {
    JobKind.HOST_CHECK: Kind(JobKind.HOST_CHECK, NoParams, retry_safe=True, time_limit=600),
    **{kind.name: kind for kind in _runtime_kinds()},
}
if settings.WHARF_TEST_JOBS:
    KINDS[JobKind.TEST_SLEEP] = Kind(
        JobKind.TEST_SLEEP, SleepParams, time_limit=settings.WHARF_TEST_JOB_TIME_LIMIT
    )


def kind_of(name: str) -> Kind | None:
    return KINDS.get(name)


#: kinds a team may start by name through ``POST /api/v1/jobs/``: each makes something new
#: or only looks at the host. The others act on an object that some team owns (or, for a
#: prune, on every team's) and a job's parameters name it by its engine name, which says
#: nothing of its owner: teams start those through the object's own action in the
#: inventory API, which checks that the object is theirs; fleet admins may start any.
OPEN_KINDS = frozenset(
    {
        JobKind.HOST_CHECK,
        JobKind.IMAGE_PULL,
        JobKind.CONTAINER_CREATE,
        JobKind.VOLUME_CREATE,
        JobKind.NETWORK_CREATE,
        JobKind.TEST_SLEEP,
    }
)
