from django.db import models


class Role(models.TextChoices):
    """A member's role in a team; each grants what the one before it does, and more."""

    VIEWER = "viewer", "Viewer"  # reads the team's objects, jobs and quota use
    OPERATOR = "operator", "Operator"  # also runs jobs: changes the team's objects
    ADMIN = "admin", "Team admin"  # also manages memberships and reads the audit log


#: Roles that may start jobs and change the team's resources.
RUN_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})
#: Roles that manage the team itself: its members, and what it was granted and audited for.
MANAGE_ROLES = frozenset({Role.ADMIN})
