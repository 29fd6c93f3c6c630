from django.db import models


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


ACTIVE_STATES = frozenset({JobState.QUEUED, JobState.RUNNING})
TERMINAL_STATES = frozenset(
    {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.EXPIRED}
)
#: What a host may report as a job's end.
HOST_END_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})


class JobKind(models.TextChoices):
    """What a job does; each kind is registered in ``webapp.jobs.kinds`` and handled in ``worker.jobs``."""

    HOST_CHECK = "host.check", "Host check"
    IMAGE_PULL = "image.pull", "Pull an image"
    IMAGE_TAG = "image.tag", "Tag an image"
    IMAGE_REMOVE = "image.remove", "Remove an image"
    IMAGE_PRUNE = "image.prune", "Prune images"
    IMAGE_PUSH = "image.push", "Push an image"
    IMAGE_BUILD = "image.build", "Build an image"
    IMAGE_LOAD = "image.load", "Load images from an archive"
    IMAGE_IMPORT = "image.import", "Import a filesystem as an image"
    CONTAINER_CREATE = "container.create", "Create a container"
    CONTAINER_START = "container.start", "Start a container"
    CONTAINER_STOP = "container.stop", "Stop a container"
    CONTAINER_RESTART = "container.restart", "Restart a container"
    CONTAINER_KILL = "container.kill", "Kill a container"
    CONTAINER_PAUSE = "container.pause", "Pause a container"
    CONTAINER_UNPAUSE = "container.unpause", "Unpause a container"
    CONTAINER_RENAME = "container.rename", "Rename a container"
    CONTAINER_REMOVE = "container.remove", "Remove a container"
    CONTAINER_EXEC = "container.exec", "Run a command in a container"
    CONTAINER_COMMIT = "container.commit", "Commit a container"
    CONTAINER_PRUNE = "container.prune", "Prune containers"
    VOLUME_CREATE = "volume.create", "Create a volume"
    VOLUME_REMOVE = "volume.remove", "Remove a volume"
    VOLUME_PRUNE = "volume.prune", "Prune volumes"
    NETWORK_CREATE = "network.create", "Create a network"
    NETWORK_REMOVE = "network.remove", "Remove a network"
    NETWORK_PRUNE = "network.prune", "Prune networks"
    NETWORK_CONNECT = "network.connect", "Connect a container to a network"
    NETWORK_DISCONNECT = "network.disconnect", "Disconnect a container from a network"
    IMAGE_HISTORY = "image.history", "Read an image's history"
    VOLUME_FILES = "volume.files", "List a volume's files"
    #: a job that sleeps and prints, for fault tests; known only where WHARF_TEST_JOBS=1
    TEST_SLEEP = "test.sleep", "Test: sleep"
