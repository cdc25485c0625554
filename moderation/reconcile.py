"""Rows against their audit log: does each report's, sanction's, appeal's and story's row hold the
state that the last event recording its state says it has? And does each account hold the rights
its events gave it, and each role group the rights of the roles table?

Why: every service writes a row and its event in one transaction, and the chain (audit/verify.py)
proves the events were not changed. But whoever has the app's database credentials (a shell on an
app host, raw SQL) can change a row without an event; the record and the row then disagree, and
until now nothing looked. This looks: `manage.py audit_reconcile`, and daily on the schedule
(moderation/tasks.py, which logs each disagreement as an error).

Each batch of rows and the events it is compared with are read in one snapshot (REPEATABLE READ on
PostgreSQL; a read transaction on SQLite is one snapshot already), so a change committing between
the two reads is not taken for a disagreement. Two queries a batch, whatever the batch holds.

Rights are what an insider most wants and what raw SQL gives most cheaply (a row in
auth_user_groups, is_superuser set): every account holding any (a role group, is_staff,
is_superuser, a permission of its own) or given any by an event is compared with what its events
recorded, folded in order (account.created, account.changed, staff.created,
account.superuser_created); the role groups with moderation/roles.py, the one table of rights.
Nine reads, in one snapshot too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q, QuerySet

from audit import services as audit
from audit.models import AuditEvent
from moderation.enforcement.models import Appeal, Sanction
from moderation.enforcement.services import appeal_audit_state, sanction_audit_state
from moderation.roles import ROLE_PERMISSIONS, is_staff_for
from moderation.rollups import one_snapshot
from moderation.stories.models import StoryReview
from moderation.stories.services import story_audit_state
from reports.models import Report
from reports.services import report_audit_state

#: Rows read at once.
BATCH = 1000
#: Disagreements named in a run's event (all are counted).
NAMED = 20


@dataclass(frozen=True)
class Kind:
    object_type: str
    rows: Callable[[], QuerySet]
    state: Callable[[Any], dict[str, Any]]


#: What is reconciled: the rows whose every change a service records with the row's whole state.
KINDS = (
    Kind("report", lambda: Report.objects.all(), report_audit_state),
    Kind("sanction", lambda: Sanction.objects.select_related("target"), sanction_audit_state),
    Kind("appeal", lambda: Appeal.objects.all(), appeal_audit_state),
    Kind("story", lambda: StoryReview.objects.all(), story_audit_state),
)

#: The events that give or take an account's rights, and what each records (moderation/accounts.py,
#: moderation/services.py staff_create, audit/management/commands/createsuperuser.py).
RIGHTS_EVENTS = ("account.created", "account.changed", "staff.created", "account.superuser_created")


@dataclass(frozen=True)
class Disagreement:
    object_type: str
    object_id: str
    #: The fields whose row value is not the recorded one; empty when no event recorded a state.
    fields: tuple[str, ...]
    #: The event whose recorded state the row was compared with; None when there is none.
    event_id: int | None

    def describe(self) -> str:
        """What disagrees, in the words the command and the daily task's log both use."""
        fields = ", ".join(self.fields)
        if self.object_type == "group":
            return f"{fields} not as the roles table (moderation/roles.py) sets them"
        if self.event_id is None:
            return f"{fields} held, but no event recorded them" if fields else "no event recorded its state"
        return f"{fields} not as event #{self.event_id} recorded"


@dataclass
class Result:
    checked: dict[str, int] = field(default_factory=dict)
    disagreements: list[Disagreement] = field(default_factory=list)


def reconcile(*, batch: int = BATCH, rights_only: bool = False) -> Result:
    """`rights_only`: the rights alone (nine reads, whatever the number of accounts or reports), which
    the schedule checks every few minutes; the whole check is daily."""
    result = Result()
    for kind in () if rights_only else KINDS:
        result.checked[kind.object_type] = 0
        # The keys of a whole state, from the function the services record it with (on an empty row).
        keys = list(kind.state(kind.rows().model()))
        for rows, recorded in _batches(kind, keys, batch):
            result.checked[kind.object_type] += len(rows)
            for row in rows:
                disagreement = _compare(kind, row, recorded.get(str(row.pk)))
                if disagreement:
                    result.disagreements.append(disagreement)
    result.disagreements.extend(_rights(result))
    return result


def reconcile_and_record(*, batch: int = BATCH) -> Result:
    """reconcile(), then its `audit.reconciled` event: that the check ran, what it read and what it
    found (the first NAMED disagreements), kept in the chain; the audit page shows the latest."""
    result = reconcile(batch=batch)
    with transaction.atomic():
        audit.record(
            actor=audit.SystemActor("audit_reconcile"),
            event_type="audit.reconciled",
            object_type="audit_log",
            object_id="reconcile",
            data={
                "checked": result.checked,
                "disagreements": len(result.disagreements),
                "named": [
                    [d.object_type, d.object_id, list(d.fields), d.event_id] for d in result.disagreements[:NAMED]
                ],
            },
        )
    return result


def _batches(kind: Kind, keys: list[str], size: int) -> Iterator[tuple[list, dict[str, tuple[int, dict]]]]:
    after = None
    while True:
        with one_snapshot():
            rows = kind.rows().order_by("pk")
            rows = list((rows.filter(pk__gt=after) if after is not None else rows)[:size])
            if not rows:
                return
            recorded = _last_recorded(kind, keys, [str(row.pk) for row in rows])
        after = rows[-1].pk
        yield rows, recorded


def _last_recorded(kind: Kind, keys: list[str], object_ids: list[str]) -> dict[str, tuple[int, dict]]:
    """Each object's last event that recorded its whole state (all of `keys`): {object_id: (event
    id, state)}. Events recording a part of it (a note, a flag) hold fewer keys and are passed over.
    Served by the index on (object_type, object_id, id)."""
    events = (
        AuditEvent.objects.filter(object_type=kind.object_type, object_id__in=object_ids, after__has_keys=keys)
        .order_by("object_id", "-id")
        .values_list("object_id", "id", "after")
    )
    last: dict[str, tuple[int, dict]] = {}
    for object_id, event_id, after in events:
        last.setdefault(object_id, (event_id, after))
    return last


def _compare(kind: Kind, row: Any, recorded: tuple[int, dict] | None) -> Disagreement | None:
    if recorded is None:
        return Disagreement(kind.object_type, str(row.pk), (), None)
    event_id, state = recorded
    now = audit.as_recorded(kind.state(row))
    differing = tuple(name for name, value in now.items() if state.get(name) != value)
    return Disagreement(kind.object_type, str(row.pk), differing, event_id) if differing else None


@dataclass
class Rights:
    """An account's rights as its events recorded them; the defaults are an account no event names."""

    groups: frozenset[str] = frozenset()
    is_staff: bool = False
    is_superuser: bool = False
    is_active: bool = True
    #: The last event that recorded any of them.
    event_id: int | None = None


def recorded_rights() -> dict[str, Rights]:
    """Each account's rights folded from its events, oldest first: {user id: Rights}."""
    recorded: dict[str, Rights] = {}
    events = (
        AuditEvent.objects.filter(object_type="user", event_type__in=RIGHTS_EVENTS)
        .order_by("id")
        .values_list("object_id", "id", "event_type", "after")
    )
    for object_id, event_id, event_type, after in events:
        rights = recorded.setdefault(object_id, Rights())
        after = after or {}
        if "role" in after:  # a role's group, and is_staff with it (moderation/accounts.py _set_role)
            role = after["role"]
            rights.groups = frozenset([role] if role else [])
            rights.is_staff = is_staff_for(role)
        if event_type == "account.superuser_created":
            rights.is_superuser, rights.is_staff = True, bool(after.get("is_staff", True))
        if "is_active" in after:
            rights.is_active = bool(after["is_active"])
        rights.event_id = event_id
    return recorded


def _rights(result: Result) -> list[Disagreement]:
    User = get_user_model()  # noqa: N806
    with one_snapshot():
        recorded = recorded_rights()
        # Who holds any right now: three small sets (the groups' and permissions' link tables, and
        # the flags), rather than one OR across joins that would read every account.
        holders = set(User.groups.through.objects.values_list("user_id", flat=True))
        holders |= set(User.user_permissions.through.objects.values_list("user_id", flat=True))
        holders |= set(User.objects.filter(Q(is_staff=True) | Q(is_superuser=True)).values_list("pk", flat=True))
        holders |= {int(object_id) for object_id in recorded if object_id.isdigit()}
        accounts = list(
            User.objects.filter(pk__in=sorted(holders))
            .only("pk", "is_staff", "is_superuser", "is_active")
            .prefetch_related("groups", "user_permissions")
            .order_by("pk")
        )
        granted = {name: set() for name in Group.objects.values_list("name", flat=True)}
        links = Group.permissions.through.objects.values_list(
            "group__name", "permission__content_type__app_label", "permission__codename"
        )
        for name, app_label, codename in links:
            granted[name].add(f"{app_label}.{codename}")
    result.checked["account"] = len(accounts)
    result.checked["group"] = len(granted)

    found = []
    for account in accounts:
        rights = recorded.get(str(account.pk), Rights())
        held = Rights(
            groups=frozenset(group.name for group in account.groups.all()),
            is_staff=account.is_staff,
            is_superuser=account.is_superuser,
            is_active=account.is_active,
        )
        differing = tuple(
            name
            for name in ("groups", "is_staff", "is_superuser", "is_active")
            if getattr(held, name) != getattr(rights, name)
        )
        if account.user_permissions.all():
            differing += ("user_permissions",)  # no service grants an account a permission of its own
        if differing:
            found.append(Disagreement("user", str(account.pk), differing, rights.event_id))
    for name in sorted(set(granted) | set(ROLE_PERMISSIONS)):
        if granted.get(name) != ROLE_PERMISSIONS.get(name, set()):  # a role's group gone, too
            found.append(Disagreement("group", name, ("permissions",), None))
    return found
