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
    #: a job that sleeps and prints, for fault tests; known only where WHARF_TEST_JOBS=1
    TEST_SLEEP = "test.sleep", "Test: sleep"
