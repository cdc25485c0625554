"""The one table of allowed status moves for reports (the platform's published contract)."""

from reports.models import ReportStatus

PENDING, REVIEWED, RESOLVED, DISMISSED = (
    ReportStatus.PENDING,
    ReportStatus.REVIEWED,
    ReportStatus.RESOLVED,
    ReportStatus.DISMISSED,
)

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({REVIEWED, RESOLVED, DISMISSED}),
    REVIEWED: frozenset({RESOLVED, DISMISSED}),
    RESOLVED: frozenset(),
    DISMISSED: frozenset(),
}
# Reopening is a separate, admin-only move with a reason; a reopened report is under review again.
REOPEN_FROM = frozenset({RESOLVED, DISMISSED})
REOPEN_TO = REVIEWED


def can_move(current: str, new: str) -> bool:
    return new in ALLOWED_TRANSITIONS.get(current, frozenset())


def next_statuses(current: str) -> list[str]:
    return [status for status in ReportStatus.values if status in ALLOWED_TRANSITIONS.get(current, ())]
