"""The filters of Docker's prune verbs: ``until=`` and ``label=``/``label!=``.

``system prune --filter`` (and the Engine API's prune calls) pass one to each
prune: an object is removed only if it was created before ``until`` (a Unix time,
an RFC 3339 time or a duration ago, as ``logs --since``) and its labels match
every ``label=KEY[=VALUE]`` and none of the ``label!=…`` (daemon/prune.go).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runtime.errors import InvalidArgument
from runtime.timefmt import parse_point_in_time, rfc3339_ns

ACCEPTED = ("until", "label", "label!")


@dataclass
class PruneFilter:
    """What a prune may remove; the empty filter lets everything through."""

    until_ns: int | None = None
    labels: list[str] = field(default_factory=list)
    not_labels: list[str] = field(default_factory=list)

    def matches(self, created: str, labels: dict[str, str] | None) -> bool:
        """Whether an object created then, with these labels, may be pruned."""
        if self.until_ns is not None and created and rfc3339_ns(created) >= self.until_ns:
            return False
        have = labels or {}
        if not all(_label_in(item, have) for item in self.labels):
            return False
        return not any(_label_in(item, have) for item in self.not_labels)


def _label_in(item: str, labels: dict[str, str]) -> bool:
    key, sep, value = item.partition("=")
    return key in labels and (not sep or labels[key] == value)


def parse_prune_filters(values: list[str] | None) -> PruneFilter:
    """``--filter KEY=VALUE`` flags → a PruneFilter; Docker's errors for the rest."""
    out = PruneFilter()
    until: list[str] = []
    for text in values or []:
        key, sep, value = text.partition("=")
        if not sep:
            raise InvalidArgument("bad format of filter (expected name=value)")
        if key not in ACCEPTED:
            raise InvalidArgument(f"Invalid filter '{key}'")
        if key == "until":
            until.append(value)
        elif key == "label":
            out.labels.append(value)
        else:
            out.not_labels.append(value)
    if len(until) > 1:
        raise InvalidArgument("more than one until filter specified")
    if until:
        out.until_ns = parse_point_in_time(until[0])
    return out
