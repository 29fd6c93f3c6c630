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
    last_seq = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["state"]), models.Index(fields=["host", "state"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} on {self.host_id} ({self.state})"

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

    def start(self) -> bool:
        """Claim the job for running; False if it is not queued (a redelivery, a cancel)."""
        now = timezone.now()
        claimed = Job.objects.filter(pk=self.pk, state=JobState.QUEUED).update(
            state=JobState.RUNNING, started=now
        )
        if claimed:
            self.state, self.started = JobState.RUNNING, now
        return bool(claimed)

    def finish(self, state: str, result: dict | None = None, error: str = "") -> bool:
        """Move a running job to a terminal state; False if it was no longer running."""
        if state not in TERMINAL_STATES:
            raise ValueError(f"{state!r} is not a terminal job state")
        now = timezone.now()
        done = Job.objects.filter(pk=self.pk, state__in=ACTIVE_STATES).update(
            state=state, finished=now, result=result or {}, error=error
        )
        if done:
            self.state, self.finished, self.result, self.error = state, now, result or {}, error
        return bool(done)

    def log(self, text: str, stream: str = "stdout") -> JobLine:
        """Store one output line with the job's next sequence number."""
        with transaction.atomic():
            Job.objects.filter(pk=self.pk).update(last_seq=F("last_seq") + 1)
            seq = Job.objects.filter(pk=self.pk).values_list("last_seq", flat=True).get()
            line = JobLine.objects.create(job_id=self.pk, seq=seq, stream=stream, text=text)
        self.last_seq = seq
        return line


class JobLine(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="lines")
    seq = models.PositiveIntegerField()
    stream = models.CharField(max_length=16, default="stdout")
    text = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job", "seq"]
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="one_line_per_seq")]

    def as_message(self) -> dict:
        return {
            "type": "line",
            "seq": self.seq,
            "stream": self.stream,
            "text": self.text,
            "time": self.created.isoformat(),
        }


def group_for(job_id: int) -> str:
    return f"job-{job_id}"


def visible_jobs(user: object) -> models.QuerySet[Job]:
    """Return the jobs this user may see: their teams' jobs, or all for fleet admins."""
    from webapp.accounts.models import visible_teams

    return Job.objects.filter(team__in=visible_teams(user))
