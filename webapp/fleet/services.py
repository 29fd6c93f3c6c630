"""What fleet admins do to a host's state: drain, cordon, uncordon; each is logged.

Every path (the admin's actions, a page, a script) goes through
``set_admin_state``, so each change leaves a host event and an audit entry.
"""

from __future__ import annotations

from webapp.audit.services import record
from webapp.errors import Invalid
from webapp.fleet.choices import HostState
from webapp.fleet.models import Host, HostEvent

#: the state each admin action sets, and the word its host event and audit entry use
ACTIONS: dict[str, str] = {
    "drain": HostState.DRAINING,
    "cordon": HostState.CORDONED,
    "uncordon": HostState.ONLINE,
}


def set_admin_state(host: Host, action: str, user: object = None) -> None:
    """Drain, cordon or uncordon HOST (ACTION), as USER."""
    if action not in ACTIONS:
        raise Invalid(f"unknown host action {action!r}; one of {sorted(ACTIONS)}", field="action")
    before = Host.objects.filter(pk=host.pk).values_list("state", flat=True).first()
    Host.objects.filter(pk=host.pk).update(state=ACTIONS[action])
    host.refresh_from_db()
    host.announce()
    HostEvent.objects.create(host=host, kind=f"{action}ed", detail=f"by {user}" if user else "")
    record(
        f"host.{action}",
        host,
        actor=user,
        before={"state": before},
        after={"state": ACTIONS[action]},
    )
