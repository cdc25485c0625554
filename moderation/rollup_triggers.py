"""Database triggers that write every change of a report's counted columns into the dashboard's
pending changes (moderation.models.ReportRollupChange): the row as it was (sign -1) and as it is
(sign +1), in the change's own transaction. A trigger, not a call in each service, because reports
are also written by bulk updates, the admin, migrations and COPY: every path is counted the same.

Used by the migration that installs them and by the test suite, which lifts them while Django empties
the tables between transactional tests (SQLite empties them with DELETE, which would fire them).
"""

from django.db.backends.base.base import BaseDatabaseWrapper

from moderation.rollups import ROW_FIELDS

REPORTS = "reports_report"
CHANGES = "moderation_reportrollupchange"
_COLUMNS = ", ".join(("recorded_at", "sign", *ROW_FIELDS))


def _values(row: str, sign: int, now: str) -> str:
    return ", ".join((now, str(sign), *(f"{row}.{column}" for column in ROW_FIELDS)))


_CHANGED_PG = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in ROW_FIELDS)
_CHANGED_SQLITE = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in ROW_FIELDS)
# Django stores SQLite datetimes as ISO text in UTC; this is the same form.
_NOW_SQLITE = "strftime('%Y-%m-%d %H:%M:%f', 'now')"

# bandit B608 / ruff S608 below: every name formatted into these statements is one of ours (the two
# table names and ROW_FIELDS), never input.
_INSTALL = {
    "postgresql": [
        f"""
        CREATE OR REPLACE FUNCTION {REPORTS}_rollup_change() RETURNS trigger AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                INSERT INTO {CHANGES} ({_COLUMNS}) VALUES ({_values("OLD", -1, "now()")});
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                INSERT INTO {CHANGES} ({_COLUMNS}) VALUES ({_values("NEW", 1, "now()")});
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """,  # noqa: S608  # nosec B608
        f"""
        CREATE OR REPLACE TRIGGER {REPORTS}_rollup_insert_delete
        AFTER INSERT OR DELETE ON {REPORTS}
        FOR EACH ROW EXECUTE FUNCTION {REPORTS}_rollup_change()
        """,  # noqa: S608  # nosec B608
        # Only a change of a counted column is written: an assignment or a note costs nothing here.
        f"""
        CREATE OR REPLACE TRIGGER {REPORTS}_rollup_update
        AFTER UPDATE ON {REPORTS}
        FOR EACH ROW WHEN ({_CHANGED_PG}) EXECUTE FUNCTION {REPORTS}_rollup_change()
        """,  # noqa: S608  # nosec B608
    ],
    "sqlite": [
        f"""
        CREATE TRIGGER IF NOT EXISTS {REPORTS}_rollup_insert AFTER INSERT ON {REPORTS}
        BEGIN INSERT INTO {CHANGES} ({_COLUMNS}) VALUES ({_values("NEW", 1, _NOW_SQLITE)}); END
        """,  # noqa: S608  # nosec B608
        f"""
        CREATE TRIGGER IF NOT EXISTS {REPORTS}_rollup_delete AFTER DELETE ON {REPORTS}
        BEGIN INSERT INTO {CHANGES} ({_COLUMNS}) VALUES ({_values("OLD", -1, _NOW_SQLITE)}); END
        """,  # noqa: S608  # nosec B608
        f"""
        CREATE TRIGGER IF NOT EXISTS {REPORTS}_rollup_update AFTER UPDATE ON {REPORTS}
        WHEN {_CHANGED_SQLITE}
        BEGIN
            INSERT INTO {CHANGES} ({_COLUMNS}) VALUES ({_values("OLD", -1, _NOW_SQLITE)});
            INSERT INTO {CHANGES} ({_COLUMNS}) VALUES ({_values("NEW", 1, _NOW_SQLITE)});
        END
        """,  # noqa: S608  # nosec B608
    ],
}

_REMOVE = {
    "postgresql": [
        f"DROP TRIGGER IF EXISTS {REPORTS}_rollup_insert_delete ON {REPORTS}",
        f"DROP TRIGGER IF EXISTS {REPORTS}_rollup_update ON {REPORTS}",
        f"DROP FUNCTION IF EXISTS {REPORTS}_rollup_change()",
    ],
    "sqlite": [
        f"DROP TRIGGER IF EXISTS {REPORTS}_rollup_insert",
        f"DROP TRIGGER IF EXISTS {REPORTS}_rollup_delete",
        f"DROP TRIGGER IF EXISTS {REPORTS}_rollup_update",
    ],
}


def _run(connection: BaseDatabaseWrapper, statements: dict[str, list[str]]) -> None:
    if connection.vendor not in statements:
        raise NotImplementedError(f"no rollup trigger for database vendor {connection.vendor!r}")
    with connection.cursor() as cursor:
        for statement in statements[connection.vendor]:
            cursor.execute(statement)


def install(connection: BaseDatabaseWrapper) -> None:
    _run(connection, _INSTALL)


def remove(connection: BaseDatabaseWrapper) -> None:
    _run(connection, _REMOVE)
