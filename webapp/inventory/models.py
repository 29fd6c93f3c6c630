"""What each host has: its images, containers, volumes and networks, as the host reported them.

The host is the truth; these rows follow it (``webapp.inventory.services``
applies the host's events and its periodic full snapshot). Each object is
owned by a team, or by none while it is *unmanaged* (made with the ``wharf``
CLI behind the site's back) until an admin adopts it. Everything is read
through ``TeamOwnedQuerySet.for_user``: an unmanaged object is a fleet
admin's alone.
"""

from __future__ import annotations

from django.db import models

from webapp.fleet.models import Host
from webapp.inventory.choices import ContainerState, Health, Kind
from webapp.permissions import TeamOwnedQuerySet


class HostObject(models.Model):
    """What the four kinds share: the host, the engine's id, the owning team, labels, times."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    engine_id = models.CharField(max_length=128, help_text="the host's id of the object")
    labels = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    objects = TeamOwnedQuerySet.as_manager()

    kind: str = ""

    class Meta:
        abstract = True
        ordering = ["host__name", "engine_id"]
        constraints = [
            models.UniqueConstraint(fields=["host", "engine_id"], name="%(class)s_once_per_host")
        ]
        # the lists' order (host name, then name): a page reads its rows off the index, no sort
        indexes = [models.Index(fields=["host", "name"], name="%(class)s_host_name")]

    @property
    def managed(self) -> bool:
        return self.team_id is not None


class Container(HostObject):
    kind = Kind.CONTAINER

    name = models.CharField(max_length=255)
    image = models.CharField(max_length=512, help_text="the reference it was made from")
    image_id = models.CharField(max_length=128, blank=True)
    command = models.TextField(blank=True)
    state = models.CharField(
        max_length=16, choices=ContainerState.choices, default=ContainerState.UNKNOWN
    )
    exit_code = models.IntegerField(null=True, blank=True)
    oom_killed = models.BooleanField(default=False)
    health = models.CharField(max_length=16, choices=Health.choices, default="", blank=True)
    restart_count = models.PositiveIntegerField(default=0)
    ports = models.JSONField(default=list, blank=True)
    mounts = models.JSONField(default=list, blank=True)
    networks = models.JSONField(default=list, blank=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    # its limits (0: none), which placement counts against its host's room while it runs
    cpus = models.FloatField(default=0, help_text="CPUs it may use (docker run --cpus)")
    memory = models.BigIntegerField(default=0, help_text="bytes of memory it may use (--memory)")
    # Docker's SizeRw and SizeRootFs, measured at each reconcile (walking a writable layer
    # is too slow to do at every event, which is why ``docker ps`` leaves it to ``-s``)
    size_rw = models.BigIntegerField(null=True, blank=True)
    size_root_fs = models.BigIntegerField(null=True, blank=True)

    class Meta(HostObject.Meta):
        ordering = ["host__name", "name"]
        # and the dashboard's count of a team's containers by state, read off the index alone,
        # and its few failing ones found without reading the others
        indexes = [
            *HostObject.Meta.indexes,
            models.Index(fields=["team", "state"], name="container_team_state"),
            models.Index(
                fields=["host", "name"],
                condition=models.Q(health=Health.UNHEALTHY),
                name="container_unhealthy",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} on {self.host}"


class Image(HostObject):
    kind = Kind.IMAGE

    name = models.CharField(max_length=512, blank=True, help_text="its first tag, if any")
    tags = models.JSONField(default=list, blank=True)
    digests = models.JSONField(default=list, blank=True)
    size = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name or self.engine_id[:19]} on {self.host}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.name = self.tags[0] if self.tags else ""
        super().save(*args, **kwargs)


class Volume(HostObject):
    kind = Kind.VOLUME

    name = models.CharField(max_length=255)
    driver = models.CharField(max_length=64, default="local")
    mountpoint = models.CharField(max_length=4096, blank=True)
    # the bytes of its files (``wharf system df -v``), measured at each reconcile like a
    # container's sizes; what a team's storage quota sums (``webapp.accounts.quotas``)
    size = models.BigIntegerField(null=True, blank=True)

    class Meta(HostObject.Meta):
        ordering = ["host__name", "name"]

    def __str__(self) -> str:
        return f"{self.name} on {self.host}"


class Network(HostObject):
    kind = Kind.NETWORK

    name = models.CharField(max_length=255)
    driver = models.CharField(max_length=64)
    subnet = models.CharField(max_length=64, blank=True)
    gateway = models.CharField(max_length=64, blank=True)
    internal = models.BooleanField(default=False)

    class Meta(HostObject.Meta):
        ordering = ["host__name", "name"]

    def __str__(self) -> str:
        return f"{self.name} on {self.host}"


class InventoryCursor(models.Model):
    """How far the site has applied a host's event stream: the host resumes after ``cursor``."""

    host = models.OneToOneField(Host, on_delete=models.CASCADE, related_name="+")
    cursor = models.BigIntegerField(default=0)
    reconciled = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.host}: after event {self.cursor}"


MODELS: dict[str, type[HostObject]] = {
    Kind.CONTAINER: Container,
    Kind.IMAGE: Image,
    Kind.VOLUME: Volume,
    Kind.NETWORK: Network,
}
