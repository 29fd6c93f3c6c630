"""Open websockets follow their user's access as it changes, not as it was at connect.

A socket checks its user's access when it opens; sockets live for hours. A
member taken out of a team, a fleet admin made an ordinary user, a host's
grant withdrawn: each must reach the sockets already open, or the person goes
on reading (or typing into) what is no longer theirs. Every consumer joins
its user's access group (``access_group``); the changes that can narrow or
widen what a user sees — memberships, the user's own flags, host grants and
pools, and the credential a socket opened with (a token revoked, a password
reset, a session signed out) — are caught here from the models' signals, whatever path made them
(admin, ``manage.py``, API, page), and each affected user's sockets are told
``access.changed`` after the commit. Each consumer then checks again with
the user read afresh: the job and container sockets close with 4404 when the
object is no longer the user's, the lists' socket joins and leaves team
groups to match.

A credential that simply runs out — a token past its expiry, a session past
its age — sends no signal, so each socket also tells itself ``access.changed``
when its credential's time is up (``FollowsAccess``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth import HASH_SESSION_KEY, get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from webapp.accounts.models import Membership
from webapp.fleet.models import Host, HostGrant, HostPool

log = logging.getLogger(__name__)

#: seconds after a credential's expiry that its sockets check it (clocks of one machine)
EXPIRY_SLACK = 0.5
#: the longest a socket's expiry timer waits at once (a far expiry is waited in steps)
MAX_TIMER = 86400.0


def access_group(user_id: int) -> str:
    """The channel-layer group of one user's open sockets."""
    return f"access.user.{user_id}"


def access_changed(user_ids: Iterable[int]) -> None:
    """Tell USER_IDS' open sockets, once the transaction commits, to check their access again."""
    ids = sorted(set(user_ids))
    if not ids:
        return

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        for user_id in ids:
            try:
                async_to_sync(layer.group_send)(access_group(user_id), {"type": "access.changed"})
            except Exception as exc:  # noqa: BLE001 - logged; the next check is the next connect
                log.warning(
                    "user %s's open sockets, if any, were not told of an access change"
                    " (the channel layer: %s); they check their access when they connect again",
                    user_id,
                    exc,
                )

    transaction.on_commit(send)


def fresh_user(scope: dict) -> Any | None:
    """The socket's user read again from the database (flags as they are now); None when
    gone, inactive, or the credential the socket opened with no longer holds.

    A socket outlives its credential otherwise: a token revoked, a password reset by an
    admin (Django then signs out every other session; its hash is in the session), a
    session signed out. Each of these tells the user's sockets (receivers below).
    """
    user = scope["user"]
    found = get_user_model().objects.filter(pk=user.pk, is_active=True).first()
    if found is None:
        return None
    token = scope.get("auth_token")
    if token is not None:
        from webapp.accounts.tokens import ApiToken

        owner = ApiToken.user_for(token)
        return found if owner is not None and owner.pk == found.pk else None
    session = scope.get("session")
    if session is None or session.session_key is None:
        return None
    # read from the store again: an expired session is absent there (``exists`` alone
    # does not look at the expiry, and the scope's copy is the one read at connect)
    stored = session.__class__(session.session_key)
    data = stored.load()
    if stored.session_key is None:
        return None
    if not constant_time_compare(data.get(HASH_SESSION_KEY, ""), found.get_session_auth_hash()):
        return None
    return found


def credential_expiry(scope: dict) -> datetime | None:
    """When the credential a socket opened with runs out: its token's expiry, or its
    session's; None when it never does (a token without expiry) or is gone already."""
    token = scope.get("auth_token")
    if token is not None:
        from webapp.accounts.tokens import ApiToken

        return ApiToken.expiry_of(token)
    session = scope.get("session")
    if session is None or session.session_key is None:
        return None
    store = session.__class__(session.session_key)
    model = getattr(store, "model", None)
    if model is not None:  # sessions in the database: the row's own expiry
        return (
            model.objects.filter(session_key=session.session_key, expire_date__gt=timezone.now())
            .values_list("expire_date", flat=True)
            .first()
        )
    store.load()
    return None if store.session_key is None else store.get_expiry_date()


class FollowsAccess:
    """A consumer's part: join the user's access group, and be told ``access.changed``
    when the socket's credential runs out; ``access_changed`` is the consumer's.

    The expiry is watched with one timer at a time, and its check with one task kept
    here: both end with the socket (``unfollow_access``), none is armed after it. A
    check that cannot read the expiry (the database away) asks again at the next step
    of a far expiry, and at the expiry itself fails closed: the socket is told to
    check its access, as when it changed.
    """

    access_followed: str | None = None
    _expiry_timer: asyncio.TimerHandle | None = None
    _expiry_task: asyncio.Future | None = None
    _expiry_known: datetime | None = None
    _unfollowed = False

    async def follow_access(self, user: Any) -> None:
        self.access_followed = access_group(user.pk)
        await self.channel_layer.group_add(self.access_followed, self.channel_name)  # type: ignore[attr-defined]
        self._arm_expiry(await database_sync_to_async(credential_expiry)(self.scope))  # type: ignore[attr-defined]

    async def unfollow_access(self) -> None:
        self._unfollowed = True
        if self._expiry_timer is not None:
            self._expiry_timer.cancel()
        if self._expiry_task is not None and self._expiry_task is not asyncio.current_task():
            self._expiry_task.cancel()
        if self.access_followed is not None:
            await self.channel_layer.group_discard(self.access_followed, self.channel_name)  # type: ignore[attr-defined]

    def _arm_expiry(self, expires: datetime | None) -> None:
        """Arm the timer for ``expires`` (a moment after it, so the check finds it
        expired); a far expiry is waited for in steps of ``MAX_TIMER``."""
        self._expiry_known = expires
        if expires is None or self._unfollowed:
            return
        delay = max(0.0, (expires - timezone.now()).total_seconds()) + EXPIRY_SLACK
        self._expiry_timer = asyncio.get_running_loop().call_later(
            min(delay, MAX_TIMER), self._expiry_fired
        )

    def _expiry_fired(self) -> None:
        if not self._unfollowed:
            self._expiry_task = asyncio.ensure_future(self._expiry_due())

    async def _expiry_due(self) -> None:
        try:
            expires = await database_sync_to_async(credential_expiry)(self.scope)  # type: ignore[attr-defined]
        except Exception:
            known = self._expiry_known
            if known is not None and known > timezone.now():
                log.warning("cannot read a socket's credential expiry; next step", exc_info=True)
                self._arm_expiry(known)
                return
            log.warning("cannot read a socket's credential expiry at it; closing", exc_info=True)
        else:
            if expires is not None and expires > timezone.now():
                self._arm_expiry(expires)  # not yet (a step of a far one, or made longer)
                return
        if not self._unfollowed:
            await self.channel_layer.send(self.channel_name, {"type": "access.changed"})  # type: ignore[attr-defined]


def _members(team_ids: Iterable[int]) -> list[int]:
    return list(
        Membership.objects.filter(team_id__in=list(team_ids)).values_list("user_id", flat=True)
    )


@receiver(post_save, sender=Membership, dispatch_uid="access.membership_saved")
@receiver(post_delete, sender=Membership, dispatch_uid="access.membership_deleted")
def _membership(sender: type, instance: Membership, **kwargs: Any) -> None:
    access_changed([instance.user_id])


@receiver(post_save, dispatch_uid="access.user_saved")
def _user(
    sender: type, instance: Any, created: bool, update_fields: Any = None, **kwargs: Any
) -> None:
    if sender is not get_user_model() or created:
        return
    if update_fields is not None and set(update_fields) <= {"last_login", "password"}:
        return  # a sign-in touches only these
    access_changed([instance.pk])


@receiver(post_delete, dispatch_uid="access.user_deleted")
def _user_gone(sender: type, instance: Any, **kwargs: Any) -> None:
    if sender is get_user_model():
        access_changed([instance.pk])


@receiver(user_logged_out, dispatch_uid="access.logged_out")
def _logged_out(sender: type, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        access_changed([user.pk])


@receiver(post_delete, sender="accounts.ApiToken", dispatch_uid="access.token_revoked")
def _token_revoked(sender: type, instance: Any, **kwargs: Any) -> None:
    access_changed([instance.user_id])


@receiver(post_save, sender=HostGrant, dispatch_uid="access.grant_saved")
@receiver(post_delete, sender=HostGrant, dispatch_uid="access.grant_deleted")
def _grant(sender: type, instance: HostGrant, **kwargs: Any) -> None:
    access_changed(_members([instance.team_id]))


@receiver(pre_delete, sender=HostPool, dispatch_uid="access.pool_deleted")
def _pool_gone(sender: type, instance: HostPool, **kwargs: Any) -> None:
    access_changed(_members(instance.teams.values_list("pk", flat=True)))


@receiver(m2m_changed, sender=HostPool.teams.through, dispatch_uid="access.pool_teams")
def _pool_teams(sender: type, instance: Any, action: str, pk_set: Any, **kwargs: Any) -> None:
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if isinstance(instance, HostPool):
        teams = set(pk_set or ()) | set(instance.teams.values_list("pk", flat=True))
    else:  # team.host_pools changed: that team
        teams = {instance.pk}
    access_changed(_members(teams))


@receiver(m2m_changed, sender=HostPool.hosts.through, dispatch_uid="access.pool_hosts")
def _pool_hosts(sender: type, instance: Any, action: str, pk_set: Any, **kwargs: Any) -> None:
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if isinstance(instance, Host):  # host.pools changed: the teams of those pools
        pools = HostPool.objects.filter(
            pk__in=set(pk_set or ()) | set(instance.pools.values_list("pk", flat=True))
        )
    else:
        pools = HostPool.objects.filter(pk=instance.pk)
    access_changed(_members(pools.values_list("teams", flat=True)))
