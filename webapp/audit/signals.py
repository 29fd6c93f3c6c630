"""Changes that reach the database by many paths (admin, ``manage.py``, the API, a page) are
logged here, once, from the models' signals: memberships, quotas, host grants and pools,
registries, API tokens revoked. Everything else calls ``webapp.audit.services.record`` where it acts.
"""

from __future__ import annotations

import hashlib

from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from webapp.accounts.models import Membership, Quota
from webapp.accounts.tokens import ApiToken
from webapp.audit.services import record
from webapp.fleet.models import HostGrant, HostPool
from webapp.registries.models import Registry

#: per model, the fields an entry shows before and after (never a secret)
WATCHED: dict[type[models.Model], list[str]] = {
    Membership: ["user", "team", "role"],
    Quota: ["team", "containers", "cpus", "memory", "storage"],
    HostGrant: ["team", "host"],
    Registry: ["team", "name", "host", "credentials"],
}
#: fields that hold a sealed secret: an entry shows a fingerprint of the sealed text, which
#: changes when the secret is replaced and tells nothing of it
SEALED = {"credentials"}


def _state(obj: models.Model) -> dict:
    out = {}
    for name in WATCHED[type(obj)]:
        value = getattr(obj, name)
        if name in SEALED:
            value = hashlib.sha256(value.encode()).hexdigest()[:12] if value else ""
        out[name] = str(value) if isinstance(value, models.Model) else value
    return out


@receiver(pre_save)
def _remember(sender: type, instance: models.Model, **kwargs: object) -> None:
    if sender not in WATCHED or instance.pk is None:
        return
    old = sender._default_manager.filter(pk=instance.pk).first()
    instance._audit_before = _state(old) if old is not None else None


@receiver(post_save)
def _saved(sender: type, instance: models.Model, created: bool, **kwargs: object) -> None:
    if sender not in WATCHED or kwargs.get("raw"):
        return
    before = None if created else getattr(instance, "_audit_before", None)
    after = _state(instance)
    if before == after:
        return
    verb = "create" if created or before is None else "update"
    record(f"{sender._meta.model_name}.{verb}", instance, before=before, after=after)


@receiver(post_delete)
def _deleted(sender: type, instance: models.Model, **kwargs: object) -> None:
    if sender in WATCHED:
        record(f"{sender._meta.model_name}.delete", instance, before=_state(instance))
    elif sender is ApiToken:
        record(
            "apitoken.revoke",
            instance,
            before={"user": instance.user.get_username(), "name": instance.name},
        )


@receiver(m2m_changed, sender=HostPool.hosts.through)
@receiver(m2m_changed, sender=HostPool.teams.through)
def _pool_changed(sender: type, instance: models.Model, action: str, **kwargs: object) -> None:
    if action not in ("post_add", "post_remove", "post_clear") or not isinstance(
        instance, HostPool
    ):
        return
    record(
        "hostpool.update",
        instance,
        after={
            "hosts": sorted(h.name for h in instance.hosts.all()),
            "teams": sorted(t.name for t in instance.teams.all()),
        },
    )
