from django.db import models


class HostState(models.TextChoices):
    ONLINE = "online", "Online"
    UNREACHABLE = "unreachable", "Unreachable"
    DRAINING = "draining", "Draining"
    CORDONED = "cordoned", "Cordoned"


#: States an admin sets; a heartbeat never overrides them.
ADMIN_STATES = frozenset({HostState.DRAINING, HostState.CORDONED})
#: States in which a host accepts new jobs.
SCHEDULABLE_STATES = frozenset({HostState.ONLINE})
