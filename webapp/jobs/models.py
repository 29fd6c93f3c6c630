"""A job is a row: one action on one host, its state, its stored output.

Output lines are numbered per job and stored before they are published, so a
page opened later, or a websocket that reconnects, reads what it missed by
sequence number (see ``JobLine``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from webapp.jobs.choices import ACTIVE_STATES, TERMINAL_STATES, JobKind, JobState
from webapp.permissions import TeamOwnedQuerySet


class Job(models.Model):
    kind = models.CharField(max_length=64, choices=JobKind.choices)
    host = models.ForeignKey("fleet.Host", on_delete=models.PROTECT, related_name="jobs")
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="jobs")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="jobs"
    )
    params = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    #: the situation behind a failure, stable for callers: not_found, conflict,
    #: invalid_argument, host_error, time_limit, worker_lost, expired, cancelled…
    error_kind = models.CharField(max_length=32, blank=True)
    last_seq = models.PositiveIntegerField(default=0)
    #: the id of the message last sent for this job; a claim must name it
    message_id = models.CharField(max_length=64, blank=True)
    #: when the message was handed to the broker (None: not yet; the sweeper sends it)
    enqueued = models.DateTimeField(null=True, blank=True)
    #: a queued job not started by then ends as expired
    deadline = models.DateTimeField(null=True, blank=True)
    #: seconds the job may run (soft limit; the hard one is a minute later)
    time_limit = models.PositiveIntegerField(default=3 * 3600)
    attempts = models.PositiveSmallIntegerField(default=0)
    #: when a heartbeat of its host first failed to list this running job
    unseen_since = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)

    objects = TeamOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["state"]),
            models.Index(fields=["host", "state"]),
            models.Index(fields=["state", "enqueued"]),
            # the lists' order, newest first: a page of 50,000 jobs is read off it, not sorted
            models.Index(fields=["-created", "-id"], name="job_newest_first"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} on {self.host.name} ({self.state})"

    @property
    def group(self) -> str:
        """The channel-layer group that carries this job's live output."""
        return group_for(self.pk)

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    def claim(self, message_id: str, retry: bool = False) -> bool:
        """Claim the job for a run of message ``message_id``; False if it is not to run.

        A queued job is claimed once (a redelivered message finds it running
        and is refused); with ``retry`` a running job whose worker was lost is
        claimed again. The conditional update makes the claim race-free.
        """
        now = timezone.now()
        states = [JobState.QUEUED, JobState.RUNNING] if retry else [JobState.QUEUED]
        claimed = Job.objects.filter(
            pk=self.pk, state__in=states, message_id=message_id, cancel_requested=False
        ).update(state=JobState.RUNNING, started=now, attempts=F("attempts") + 1)
        if claimed:
            self.refresh_from_db()
        return bool(claimed)

    def finish(
        self, state: str, result: dict | None = None, error: str = "", error_kind: str = ""
    ) -> bool:
        """Move an active job to a terminal state; False if it had ended already."""
        if state not in TERMINAL_STATES:
            raise ValueError(f"{state!r} is not a terminal job state")
        now = timezone.now()
        done = Job.objects.filter(pk=self.pk, state__in=ACTIVE_STATES).update(
            state=state, finished=now, result=result or {}, error=error, error_kind=error_kind
        )
        if done:
            self.state, self.finished, self.result = state, now, result or {}
            self.error, self.error_kind = error, error_kind
        return bool(done)

    def log(self, text: str, stream: str = "stdout") -> JobLine:
        """Store one output line with the job's next sequence number (site-side notes)."""
        with transaction.atomic():
            Job.objects.filter(pk=self.pk).update(last_seq=F("last_seq") + 1)
            seq = Job.objects.filter(pk=self.pk).values_list("last_seq", flat=True).get()
            line = JobLine.objects.create(job_id=self.pk, seq=seq, stream=stream, text=text)
        self.last_seq = seq
        return line

    def append_lines(self, lines: list[dict]) -> list[JobLine]:
        """Store a batch of numbered lines from the host in one insert; return the new ones.

        The host numbers lines, so a batch sent twice (a retry after a lost
        answer) stores nothing the second time.
        """
        if not lines:
            return []
        seqs = [line["seq"] for line in lines]
        with transaction.atomic():
            known = set(
                JobLine.objects.filter(job_id=self.pk, seq__in=seqs).values_list("seq", flat=True)
            )
            rows = [
                JobLine(job_id=self.pk, seq=line["seq"], stream=line["stream"], text=line["text"])
                for line in lines
                if line["seq"] not in known
            ]
            JobLine.objects.bulk_create(rows, ignore_conflicts=True)
            top = max(seqs)
            Job.objects.filter(pk=self.pk, last_seq__lt=top).update(last_seq=top)
        return rows


class JobLine(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="lines")
    seq = models.PositiveIntegerField()
    stream = models.CharField(max_length=16, default="stdout")
    text = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job", "seq"]
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="one_line_per_seq")]

    def __str__(self) -> str:
        return f"job {self.job_id} line {self.seq}"

    def as_message(self) -> dict:
        return {
            "type": "line",
            "seq": self.seq,
            "stream": self.stream,
            "text": self.text,
            "time": (self.created or timezone.now()).isoformat(),
        }


def group_for(job_id: int) -> str:
    return f"job-{job_id}"
