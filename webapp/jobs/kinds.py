"""Every job kind in one registry: its parameters, the team action it needs, its retry rule.

A kind's parameters are checked at enqueue by a typed, size-limited
serializer, never later on the host; ``retry_safe`` says whether a run whose
worker was lost may simply run again (the runtime finds its earlier work by
the job's idempotency key) or must end as failed.
"""

from __future__ import annotations

from dataclasses import dataclass

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


KINDS: dict[str, Kind] = {
    JobKind.HOST_CHECK: Kind(JobKind.HOST_CHECK, NoParams, retry_safe=True, time_limit=600),
}


def kind_of(name: str) -> Kind | None:
    return KINDS.get(name)
