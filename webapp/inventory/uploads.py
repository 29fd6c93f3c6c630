"""Uploads a job needs on its host (a build context, an image archive): on disk, bounded,
handed only to the host running that job, gone when the job ends.

The request body is parsed by ``LimitedUploadHandler``: each file is written
in chunks to a temporary file under ``WHARF_UPLOAD_DIR`` (never held whole
in memory) and refused with 413 past ``WHARF_UPLOAD_MAX_BYTES``, its partial
file removed at once. An accepted upload is renamed to the job's id in the
transaction that records the job; the host fetches it through the host API
with its own credential while it runs that job (``webapp.fleet.hostapi``),
and it is removed when the job ends (``job_ended``) or, for a job that ended
without that signal (cancelled while queued), by the sweeper, which also
removes what no job will take once it has been left alone a while.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from webapp.api.errors import RequestBodyTooLarge


def upload_dir() -> Path:
    path = Path(settings.WHARF_UPLOAD_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def path_for(job_id: int) -> Path:
    return upload_dir() / f"job-{job_id}"


class LimitedUploadHandler(FileUploadHandler):
    """Write each uploaded file to disk in chunks; past the limit, remove it and answer 413."""

    def __init__(self, request: object = None) -> None:
        super().__init__(request)
        self.limit = settings.WHARF_UPLOAD_MAX_BYTES

    def new_file(self, *args: object, **kwargs: object) -> None:
        super().new_file(*args, **kwargs)
        fd, name = tempfile.mkstemp(prefix="part-", dir=upload_dir())
        self.file = StoredUpload(name, os.fdopen(fd, "wb"), self.file_name, self.content_type)
        self.size = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.size += len(raw_data)
        if self.size > self.limit:
            self.file.discard()
            raise RequestBodyTooLarge(
                f"{self.field_name}: the upload is larger than {self.limit} bytes "
                "(WHARF_UPLOAD_MAX_BYTES)"
            )
        self.file.file.write(raw_data)

    def file_complete(self, file_size: int) -> UploadedFile:
        self.file.file.close()
        self.file.size = file_size
        return self.file

    def upload_interrupted(self) -> None:
        if getattr(self, "file", None) is not None:
            self.file.discard()


class StoredUpload(UploadedFile):
    """An uploaded file on disk under the upload directory, until kept for a job or discarded."""

    def __init__(self, path: str, file: object, name: str, content_type: str) -> None:
        super().__init__(file, name, content_type, 0)
        self.path = path

    def temporary_file_path(self) -> str:
        return self.path

    def keep_for(self, job_id: int) -> None:
        """Make this the upload of JOB_ID (call inside the transaction recording the job)."""
        os.replace(self.path, path_for(job_id))
        self.path = ""

    def discard(self) -> None:
        if not self.file.closed:
            self.file.close()
        if self.path:
            Path(self.path).unlink(missing_ok=True)
            self.path = ""

    def close(self) -> None:
        # Django closes a request's files when it ends: an upload no job kept goes then
        self.discard()


def remove_for(job_id: int) -> None:
    path_for(job_id).unlink(missing_ok=True)


# An upload is renamed to its job's id inside the transaction that records the job, so
# for a moment the file is there and the job is not (to another connection). A file
# whose job cannot be seen is removed only once it has been left alone this long: a
# job rolled back after the rename, a request killed mid-upload ("part-" files).
ORPHAN_SECONDS = 600


def sweep_ended() -> list[int]:
    """Remove uploads whose jobs have ended, and orphans past ``ORPHAN_SECONDS``; return
    the job ids whose uploads went."""
    from webapp.jobs.choices import ACTIVE_STATES
    from webapp.jobs.models import Job

    now = time.time()
    held, orphans = {}, []
    for entry in upload_dir().iterdir():
        suffix = entry.name.removeprefix("job-")
        if entry.name.startswith("job-") and suffix.isdigit():
            held[int(suffix)] = entry
        elif entry.name.startswith("part-"):
            orphans.append(entry)
    states = dict(Job.objects.filter(pk__in=held).values_list("pk", "state"))
    removed = []
    for job_id, entry in held.items():
        state = states.get(job_id)  # None: no job seen (not committed yet, or rolled back)
        gone = state not in ACTIVE_STATES if state else _left_alone(entry, now)
        if gone:
            entry.unlink(missing_ok=True)
            removed.append(job_id)
    for entry in orphans:
        if _left_alone(entry, now):
            entry.unlink(missing_ok=True)
    return sorted(removed)


def _left_alone(entry: Path, now: float) -> bool:
    try:
        return now - entry.stat().st_mtime > ORPHAN_SECONDS
    except FileNotFoundError:
        return False
