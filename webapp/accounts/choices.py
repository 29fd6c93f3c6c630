from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


#: Roles that may start jobs and change the team's resources.
WRITE_ROLES = frozenset({Role.OWNER, Role.MEMBER})
