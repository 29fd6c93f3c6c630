"""Durations worded as Docker's go-units HumanDuration words them (ps, images, history)."""

from __future__ import annotations

import pytest

from runtime.cli.images import human_duration


@pytest.mark.parametrize(
    ("secs", "text"),
    [
        (0.5, "Less than a second"),
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "About a minute"),
        (119, "About a minute"),
        (120, "2 minutes"),
        (59 * 60, "59 minutes"),
        (3600, "About an hour"),
        (90 * 60, "2 hours"),  # rounded to the nearest hour
        (30 * 3600, "30 hours"),
        (47 * 3600, "47 hours"),
        (48 * 3600, "2 days"),
        (13 * 86400, "13 days"),
        (14 * 86400, "2 weeks"),
        (59 * 86400, "8 weeks"),
        (60 * 86400, "2 months"),
        (729 * 86400, "24 months"),
        (730 * 86400, "2 years"),
    ],
)
def test_it_words_durations_as_docker(secs, text):
    assert human_duration(secs) == text
