from django.db import models


class ContainerState(models.TextChoices):
    """Docker's container states, and ``unknown`` for a container of a host that stopped beating."""

    CREATED = "created", "Created"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    RESTARTING = "restarting", "Restarting"
    EXITED = "exited", "Exited"
    DEAD = "dead", "Dead"
    REMOVING = "removing", "Removing"
    UNKNOWN = "unknown", "Unknown"


class Health(models.TextChoices):
    NONE = "", "No health check"
    STARTING = "starting", "Starting"
    HEALTHY = "healthy", "Healthy"
    UNHEALTHY = "unhealthy", "Unhealthy"


class Kind(models.TextChoices):
    """The four kinds of object a host reports, as named in the host API."""

    CONTAINER = "container", "Container"
    IMAGE = "image", "Image"
    VOLUME = "volume", "Volume"
    NETWORK = "network", "Network"
