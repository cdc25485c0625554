"""Indexes for a million reports on PostgreSQL, found with the benchmarks (bench_queue, EXPLAIN ANALYZE).

PostgreSQL only (trigram GIN, covering INCLUDE columns, an expression index on auth_user), so they are
plain SQL here rather than Meta.indexes, and SQLite is left alone. Built CONCURRENTLY (the migration
is not atomic) so that applying it to a live database does not block filing.

- report_reason_trgm_idx: the queue's text search, `reason ILIKE '%word%'` (Django's icontains is
  UPPER(reason) LIKE UPPER(...)), through pg_trgm.
- report_open_queue_idx: the open queue in deadline order with the columns of the default order, so
  that a page's ids (even a thousand pages deep) come from an index-only scan.
- report_received_cover_idx / report_closed_cover_idx: the dashboard's and the transparency report's
  aggregates over a period (received per day and category, decisions, time to action, throughput)
  as index-only scans instead of reading a third of the table.
- target_external_id_idx: the search's exact match on the platform's id (the unique constraint's
  index starts with the kind, so it cannot serve a lookup on the id alone).
- auth_user_username_upper_idx: the search's "@name" prefix match (UPPER(username) LIKE 'NAME%').
"""

from django.db import migrations

INDEXES = [
    (
        "report_reason_trgm_idx",
        "reports_report USING gin (upper(reason) gin_trgm_ops)",
    ),
    (
        "report_open_queue_idx",
        "reports_report (due_at, created_at) INCLUDE (severity, id) WHERE status IN ('pending', 'reviewed')",
    ),
    (
        "report_received_cover_idx",
        "reports_report (created_at) INCLUDE (id, category, severity, status, first_reviewed_at, closed_at, due_at)",
    ),
    (
        "report_closed_cover_idx",
        "reports_report (closed_at) INCLUDE (id, reviewed_by_id, status)",
    ),
    (
        "target_external_id_idx",
        "reports_target (external_id) WHERE external_id <> ''",
    ),
    (
        "auth_user_username_upper_idx",
        "auth_user (upper(username::text) text_pattern_ops)",
    ),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _definition in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("reports", "0004_open_queue_indexes"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
