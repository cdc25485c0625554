"""Fill the database with a realistic mix at scale, for the benchmarks: accounts, targets, reports
across every category, status and the last 90 days, sanctions, and their audit events.

PostgreSQL gets the rows through COPY (a million reports in a few minutes on two cores), with the
big tables' secondary indexes set aside during the load and built once at the end; SQLite through
bulk_create. The audit events continue the existing hash chain, so `audit_verify` passes
afterwards, and the dashboard's rollups are rebuilt once at the end (their triggers are set aside
during the load). This bypasses the services on purpose (that is what makes it fast); it is for
benchmark databases only and refuses to run on a database that already holds non-bench reports
unless --force is given.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from audit import services as audit
from audit import triggers as audit_triggers
from audit.models import AuditEvent
from moderation import rollup_triggers, rollups
from moderation.enforcement.actions import ACTION_RULES, ActionKind
from moderation.enforcement.models import Sanction, SanctionStatus
from moderation.management.commands.seed_demo import CATEGORY_WEIGHTS  # one realistic mix for both
from moderation.services import staff_create
from reports.categories import CATEGORY_RULES, Category, deadline_for
from reports.models import OPEN_STATUSES, Report, ReportStatus, Target, TargetKind

WORDS = [
    "insults",
    "spam",
    "scam",
    "threat",
    "bot",
    "link",
    "photo",
    "stream",
    "lobby",
    "gaming",
    "music",
    "night",
    "harassment",
    "repeated",
    "account",
    "fake",
    "offer",
    "crypto",
    "message",
    "video",
    "story",
    "profile",
    "stop",
    "again",
    "please",
    "report",
]


# What reporters write, per category: the queue's text search then finds a word in a few percent of
# the reports (as in real traffic), not in half of them as a bag of 26 random words would.
PHRASES = {
    Category.HARASSMENT: [
        "keeps sending me insults in the lobby",
        "follows me into every room and mocks my voice",
        "won't stop messaging me after I asked them to stop",
        "calls me names every time I join the stream",
    ],
    Category.SPAM: [
        "posts the same link in every room",
        "bot account flooding the chat with ads",
        "advertises a shop in every message",
        "sends me invites to a discount channel again and again",
    ],
    Category.HATE_SPEECH: [
        "slurs against my religion during the video session",
        "racist jokes on stream",
        "says people like me should leave the country",
    ],
    Category.FRAUD: [
        "offers a fake crypto investment and asks for a deposit",
        "asked me to pay a fee for a prize I never won",
        "sells gift cards that do not work",
        "sent a phishing link asking for my password",
    ],
    Category.VIOLENCE: [
        "threatened to find me and hurt me",
        "shows a knife on camera and threatens viewers",
        "says he will burn down the house of a streamer",
    ],
    Category.IMPERSONATION: [
        "pretends to be me with my photos",
        "fake account of a well-known streamer",
        "uses the name and picture of our moderator",
    ],
    Category.NON_CONSENSUAL: [
        "shared private photos of me without my consent",
        "recorded our video call and posted it",
    ],
    Category.OTHER_TOS: [
        "uses several accounts to get around a ban",
        "cheating in the game room",
        "sells account upgrades for cash",
    ],
    Category.COPYRIGHT: [
        "streams a film I hold the rights to",
        "reuploads my music without permission",
    ],
    Category.UNDERAGE_USER: [
        "says they are 13 in their profile",
        "looks like a child on camera",
    ],
    Category.CHILD_SAFETY: [
        "an adult asking a minor for photos",
        "asks a young user to move to a private chat",
    ],
    Category.ILLEGAL_CONTENT: [
        "selling drugs in the chat",
        "offers stolen credit card numbers",
    ],
    Category.HUMAN_TRAFFICKING: [
        "offers jobs abroad and asks for passports",
        "recruits people for work and keeps their documents",
    ],
    Category.SEX_TRAFFICKING: [
        "advertises escorts and mentions very young girls",
        "pressures women into paid video sessions for someone else",
    ],
}
CONTEXT = [
    "It happened in the lobby last night.",
    "This is the third time this week.",
    "Please do something, it is getting worse.",
    "Several people in the room saw it.",
    "I have screenshots if you need them.",
    "He did it again after being warned by the room owner.",
    "It started after I disagreed with him.",
    "",
    "",
    "",
]


def _reason(rng: random.Random, category: str, user_ids: Sequence[int]) -> str:
    parts = [rng.choice(PHRASES[category]).capitalize() + "."]
    parts += [c for c in rng.sample(CONTEXT, k=rng.randint(0, 2)) if c]
    if rng.random() < 0.05:
        parts.append(f"Same as @bench_user{rng.choice(user_ids)} reported.")
    return " ".join(parts)


def _copy(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """COPY rows into a PostgreSQL table; returns how many."""
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(v) if isinstance(v, dict | list) else v for v in row])
            count += 1
    return count


def _insert(model, table: str, columns: Sequence[str], rows: list[Sequence]) -> None:
    if connection.vendor == "postgresql":
        _copy(table, columns, rows)
        return
    model.objects.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=2000)


def _reset_sequence(table: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The table name is one of ours, never input.
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")  # noqa: S608  # nosec B608


@contextmanager
def _secondary_indexes_set_aside(tables: Sequence[str]):
    """PostgreSQL: drop the tables' secondary indexes for the load and build them again afterwards
    (also when the load fails): one sorted build each instead of a million insertions into a dozen
    indexes, the trigram one above all. Indexes that back a primary key or a constraint stay.
    Not inside a transaction (a test): PostgreSQL refuses CREATE INDEX there while the audit log's
    deferred triggers are pending, and small data does not need it."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, pg_get_indexdef(x.indexrelid)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            ORDER BY i.relname
            """,
            [list(tables)],
        )
        saved = cursor.fetchall()
        for name, _definition in saved:
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '256MB'")
            for _name, definition in saved:
                # The definitions come from pg_get_indexdef, as PostgreSQL itself wrote them.
                cursor.execute(definition)


@contextmanager
def _rollup_triggers_set_aside():
    """The dashboard's rollups are counted once from the loaded reports and sanctions (rollups.rebuild,
    after this) instead of being fed a million pending changes one row at a time during the COPY."""
    rollup_triggers.remove(connection)
    try:
        yield
    finally:
        rollup_triggers.install(connection)


class Command(BaseCommand):
    help = "Fill a benchmark database: N reports with their accounts, targets, sanctions and audit events."

    def add_arguments(self, parser):
        parser.add_argument("--reports", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--force", action="store_true", help="Run even if non-bench reports exist.")

    def handle(self, *args, **options):
        total = options["reports"]
        if total < 100:
            raise CommandError("--reports must be at least 100")
        if not options["force"] and Report.objects.exclude(target__external_id__startswith="bench-").exists():
            raise CommandError("This database holds real reports; bench_data is for benchmark databases (--force).")
        # bandit B311: benchmark data, not security
        rng = random.Random(options["seed"])  # nosec B311
        started = time.perf_counter()
        now = timezone.now()
        moderators = [
            staff_create(actor=audit.SYSTEM, username=f"bench_mod{n}", role=role)[0]
            for n, role in enumerate(["moderator"] * 16 + ["compliance"] * 3 + ["admin"])
        ]
        user_ids = self._users(rng, max(total // 40, 200), now)
        self.stdout.write(f"accounts: {len(user_ids)} ({time.perf_counter() - started:.0f}s)")
        with (
            _secondary_indexes_set_aside(["reports_target", "reports_report", "audit_auditevent"]),
            _rollup_triggers_set_aside(),
        ):
            targets = self._targets(rng, user_ids, max(total // 3, 100), now)
            self.stdout.write(f"targets: {len(targets)} ({time.perf_counter() - started:.0f}s)")
            reports, decided = self._reports(rng, user_ids, targets, [m.pk for m in moderators], total, now)
            self.stdout.write(f"reports: {reports} ({time.perf_counter() - started:.0f}s)")
        self.stdout.write(f"indexes built ({time.perf_counter() - started:.0f}s)")
        with _rollup_triggers_set_aside():  # the sanctions are counted by the rebuild too
            sanctions = self._sanctions(rng, decided)
        self.stdout.write(f"sanctions: {sanctions} ({time.perf_counter() - started:.0f}s)")
        rollups.rebuild()
        self.stdout.write(f"dashboard rollups rebuilt ({time.perf_counter() - started:.0f}s)")
        if connection.vendor == "postgresql":
            # VACUUM, not only ANALYZE: COPY leaves the visibility map empty, and without it every
            # index-only scan (counts, covering indexes) reads the table as well, which autovacuum
            # would only fix some time later. Inside a transaction (a test) VACUUM is not allowed.
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            with connection.cursor() as cursor:
                for table in (
                    "auth_user",
                    "reports_target",
                    "reports_report",
                    "audit_auditevent",
                    "enforcement_sanction",
                ):
                    cursor.execute(f"{command} {table}")
        self.stdout.write(self.style.SUCCESS(f"done in {time.perf_counter() - started:.0f}s"))

    def _users(self, rng, count: int, now) -> list[int]:
        User = get_user_model()  # noqa: N806
        start = (User.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        ids = list(range(start, start + count))
        rows = [
            (
                pk,
                "!unusable",
                False,
                f"bench_user{pk}",
                "",
                "",
                f"bench_user{pk}@example.test",
                False,
                True,
                now - timedelta(days=rng.randint(90, 900)),
            )
            for pk in ids
        ]
        with transaction.atomic():
            _insert(
                User,
                "auth_user",
                [
                    "id",
                    "password",
                    "is_superuser",
                    "username",
                    "first_name",
                    "last_name",
                    "email",
                    "is_staff",
                    "is_active",
                    "date_joined",
                ],
                rows,
            )
            _reset_sequence("auth_user")
        return ids

    def _targets(self, rng, user_ids, count: int, now) -> list[tuple[int, str, int]]:
        start = (Target.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        kinds = [
            (TargetKind.MESSAGE, 60),
            (TargetKind.USER, 10),
            (TargetKind.PROFILE, 8),
            (TargetKind.FILE, 8),
            (TargetKind.VIDEO_SESSION, 8),
            (TargetKind.VIDEO_STORY, 6),
        ]
        rows, targets = [], []
        for pk in range(start, start + count):
            kind = rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
            owner = rng.choice(user_ids)
            created = now - timedelta(minutes=rng.randint(60, 95 * 24 * 60))
            text = " ".join(rng.choices(WORDS, k=rng.randint(4, 14)))
            metadata = {
                "room": rng.choice(["lobby", "gaming", "music", "late-night"]),
                "session_id": f"sess-{rng.randint(1, 10**6)}",
            }
            rows.append(
                (
                    pk,
                    str(uuid.uuid4()),
                    kind,
                    f"bench-{pk}",
                    owner,
                    f"{kind} {pk}",
                    text,
                    "",
                    "",
                    "",
                    None,
                    metadata,
                    "visible",
                    created,
                    created,
                )
            )
            targets.append((pk, kind, owner))
        with transaction.atomic():
            _insert(
                Target,
                "reports_target",
                [
                    "id",
                    "public_id",
                    "kind",
                    "external_id",
                    "owner_id",
                    "title",
                    "snapshot_text",
                    "snapshot_file",
                    "snapshot_content_type",
                    "snapshot_sha256",
                    "snapshot_purged_at",
                    "metadata",
                    "state",
                    "created_at",
                    "updated_at",
                ],
                rows,
            )
            _reset_sequence("reports_target")
        return targets

    def _reports(self, rng, user_ids, targets, moderator_ids, total: int, now):
        categories, weights = list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values())
        columns = [
            "id",
            "report_type",
            "target_id",
            "reporter_id",
            "reporter_name",
            "reporter_email",
            "channel",
            "category",
            "severity",
            "reason",
            "incident_at",
            "is_pattern",
            "status",
            "due_at",
            "assignee_id",
            "reviewed_by_id",
            "reviewed_at",
            "first_reviewed_at",
            "closed_at",
            "admin_notes",
            "escalated",
            "escalation_reason",
            "sla_alerted_at",
            "from_trusted_flagger",
            "manifestly_unfounded",
            "legal_hold",
            "evidence_purged_at",
            "created_at",
            "updated_at",
        ]
        audit_columns = [c for c in (*audit_triggers.CONTENT_COLUMNS, *audit_triggers.CHAIN_COLUMNS) if c != "id"]
        # The events are written sealed, continuing the chain from its tip, with the app's key.
        audit.seal_pending()
        seq, chain = audit.chain_tip()
        key = audit.current_key()
        open_pairs: set[tuple[int, int]] = set()
        decided: list[tuple[uuid.UUID, int, int, object, str]] = []
        batch = 50_000
        written = 0
        for offset in range(0, total, batch):
            rows, events = [], []
            for _ in range(min(batch, total - offset)):
                target_id, kind, owner = rng.choice(targets)
                reporter = rng.choice(user_ids)
                while reporter == owner:
                    reporter = rng.choice(user_ids)
                category = rng.choices(categories, weights)[0]
                rule = CATEGORY_RULES[category]
                created = now - timedelta(seconds=rng.randint(60, 90 * 86400))
                due = deadline_for(category=category, received_at=created)
                age_h = (now - created).total_seconds() / 3600
                roll = rng.random()
                # Older reports are mostly closed; the last days hold the open backlog.
                status = (
                    (ReportStatus.PENDING if roll < 0.7 else ReportStatus.REVIEWED)
                    if age_h < 48 or roll < 0.06
                    else (ReportStatus.RESOLVED if roll < 0.68 else ReportStatus.DISMISSED)
                )
                if status in OPEN_STATUSES:
                    if (reporter, target_id) in open_pairs:
                        status = ReportStatus.DISMISSED
                    else:
                        open_pairs.add((reporter, target_id))
                report_id = uuid.uuid4()
                reviewer = first = closed = reviewed = None
                if status != ReportStatus.PENDING:
                    reviewer = rng.choice(moderator_ids)
                    limit_h = max(min(age_h - 0.1, 200), 0.2)
                    first = created + timedelta(hours=rng.uniform(0.1, limit_h))
                    reviewed = first
                    if status in (ReportStatus.RESOLVED, ReportStatus.DISMISSED):
                        closed = first + timedelta(
                            hours=rng.uniform(0, max(min((now - first).total_seconds() / 3600, 24), 0))
                        )
                        reviewed = closed
                assignee = (
                    reviewer
                    if status == ReportStatus.REVIEWED
                    else (rng.choice(moderator_ids) if status == ReportStatus.PENDING and rng.random() < 0.1 else None)
                )
                reason = _reason(rng, category, user_ids)
                rows.append(
                    (
                        report_id,
                        kind,
                        target_id,
                        reporter,
                        "",
                        "",
                        "web",
                        category,
                        rule.severity,
                        reason,
                        None,
                        rng.random() < 0.2,
                        status,
                        due,
                        assignee,
                        reviewer,
                        reviewed,
                        first,
                        closed,
                        "",
                        rule.zero_tolerance or rng.random() < 0.02,
                        "",
                        None,
                        False,
                        False,
                        False,
                        None,
                        created,
                        reviewed or created,
                    )
                )
                events.append(
                    (
                        created,
                        "report.created",
                        reporter,
                        "report",
                        report_id,
                        {"status": "pending", "category": category},
                    )
                )
                if closed:
                    events.append((closed, "report.reviewed", reviewer, "report", report_id, {"status": status}))
                    if status == ReportStatus.RESOLVED:
                        decided.append((report_id, target_id, owner, closed, category))
            events.sort(key=lambda e: e[0])
            audit_rows = []
            for at, event_type, actor_id, object_type, object_id, after in events:
                fields = {
                    "created_at": at,
                    "event_type": event_type,
                    "actor_id": actor_id,
                    "actor_label": f"bench_{actor_id}",
                    "object_type": object_type,
                    "object_id": str(object_id),
                    "before": None,
                    "after": after,
                    "data": {},
                    "correlation_id": None,
                }
                origin = audit.origin_tag(key=key, **fields)
                digest = audit.compute_hash(prev_hash=chain, key=key, origin=origin, **fields)
                seq += 1
                audit_rows.append(
                    (
                        at,
                        event_type,
                        actor_id,
                        fields["actor_label"],
                        object_type,
                        str(object_id),
                        None,
                        after,
                        {},
                        None,
                        origin,
                        seq,
                        chain,
                        digest,
                        key.id,
                    )
                )
                chain = digest
            with transaction.atomic():
                _insert(Report, "reports_report", columns, rows)
                _insert(AuditEvent, "audit_auditevent", audit_columns, audit_rows)
            written += len(rows)
            self.stdout.write(f"  {written} reports")
        return written, decided

    def _sanctions(self, rng, decided) -> int:
        chosen = rng.sample(decided, k=len(decided) // 4)
        kinds = [ActionKind.REMOVE_CONTENT, ActionKind.WARNING, ActionKind.TIMEOUT, ActionKind.SUSPENSION]
        moderator = get_user_model().objects.get(username="bench_mod0")
        sanctions, links = [], []
        for report_id, target_id, owner, decided_at, _category in chosen:
            kind = rng.choice(kinds)
            ends = decided_at + timedelta(days=1) if ACTION_RULES[kind].duration == "required" else None
            status = SanctionStatus.ACTIVE if ACTION_RULES[kind].lasting else SanctionStatus.DONE
            if ends and ends < timezone.now():
                status = SanctionStatus.EXPIRED
            sanction_id = uuid.uuid4()
            sanctions.append(
                (
                    sanction_id,
                    uuid.uuid4(),
                    kind,
                    owner,
                    target_id,
                    status,
                    "terms",
                    "Terms of service §4",
                    "Confirmed in the logs.",
                    False,
                    decided_at,
                    ends,
                    "",
                    moderator.pk,
                    decided_at,
                    None,
                    None,
                    "",
                    None,
                    None,
                    "",
                )
            )
            links.append((sanction_id, report_id))
        columns = [
            "id",
            "decision_id",
            "kind",
            "account_id",
            "target_id",
            "status",
            "ground_type",
            "ground",
            "facts",
            "automated",
            "starts_at",
            "ends_at",
            "ladder_override_reason",
            "decided_by_id",
            "decided_at",
            "approved_by_id",
            "approved_at",
            "reference",
            "lifted_by_id",
            "lifted_at",
            "lift_reason",
        ]
        with transaction.atomic():
            _insert(Sanction, "enforcement_sanction", columns, sanctions)
            _insert(Sanction.reports.through, "enforcement_sanction_reports", ["sanction_id", "report_id"], links)
        return len(sanctions)
