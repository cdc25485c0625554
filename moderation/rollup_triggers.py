"""Database triggers that write every change of a report's (and a sanction's) counted columns into
the dashboard's pending changes (moderation.models.ReportRollupChange, SanctionRollupChange): the row
as it was (sign -1) and as it is (sign +1), in the change's own transaction. A trigger, not a call in
each service, because reports are also written by bulk updates, the admin, migrations and COPY:
every path is counted the same.

Used by the migration that installs them and by the test suite, which lifts them while Django empties
the tables between transactional tests (SQLite empties them with DELETE, which would fire them).
"""

from django.db.backends.base.base import BaseDatabaseWrapper

from moderation.rollups import ROW_FIELDS, SANCTION_FIELDS

REPORTS = "reports_report"
CHANGES = "moderation_reportrollupchange"
SANCTIONS = "enforcement_sanction"
SANCTION_CHANGES = "moderation_sanctionrollupchange"
# Django stores SQLite datetimes as ISO text in UTC; this is the same form.
_NOW_SQLITE = "strftime('%Y-%m-%d %H:%M:%f', 'now')"


def _statements(table: str, changes: str, fields: tuple[str, ...]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The statements that install and remove the triggers copying `fields` of `table`'s rows into
    `changes`: the row as it was (-1) and as it is (+1) on every insert, delete, and update of one of
    those fields (an update of any other column writes nothing).

    bandit B608 / ruff S608 below: every name formatted into these statements is one of ours (the
    table names and the field tuples above), never input."""
    columns = ", ".join(("recorded_at", "sign", *fields))

    def values(row: str, sign: int, now: str) -> str:
        return ", ".join((now, str(sign), *(f"{row}.{column}" for column in fields)))

    changed_pg = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in fields)
    changed_sqlite = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in fields)
    install = {
        "postgresql": [
            f"""
            CREATE OR REPLACE FUNCTION {table}_rollup_change() RETURNS trigger AS $$
            BEGIN
                IF TG_OP IN ('UPDATE', 'DELETE') THEN
                    INSERT INTO {changes} ({columns}) VALUES ({values("OLD", -1, "now()")});
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN
                    INSERT INTO {changes} ({columns}) VALUES ({values("NEW", 1, "now()")});
                END IF;
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql
            """,  # noqa: S608  # nosec B608
            f"""
            CREATE OR REPLACE TRIGGER {table}_rollup_insert_delete
            AFTER INSERT OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_rollup_change()
            """,  # noqa: S608  # nosec B608
            # Only a change of a counted column is written: an assignment or a note costs nothing here.
            f"""
            CREATE OR REPLACE TRIGGER {table}_rollup_update
            AFTER UPDATE ON {table}
            FOR EACH ROW WHEN ({changed_pg}) EXECUTE FUNCTION {table}_rollup_change()
            """,  # noqa: S608  # nosec B608
        ],
        "sqlite": [
            f"""
            CREATE TRIGGER IF NOT EXISTS {table}_rollup_insert AFTER INSERT ON {table}
            BEGIN INSERT INTO {changes} ({columns}) VALUES ({values("NEW", 1, _NOW_SQLITE)}); END
            """,  # noqa: S608  # nosec B608
            f"""
            CREATE TRIGGER IF NOT EXISTS {table}_rollup_delete AFTER DELETE ON {table}
            BEGIN INSERT INTO {changes} ({columns}) VALUES ({values("OLD", -1, _NOW_SQLITE)}); END
            """,  # noqa: S608  # nosec B608
            f"""
            CREATE TRIGGER IF NOT EXISTS {table}_rollup_update AFTER UPDATE ON {table}
            WHEN {changed_sqlite}
            BEGIN
                INSERT INTO {changes} ({columns}) VALUES ({values("OLD", -1, _NOW_SQLITE)});
                INSERT INTO {changes} ({columns}) VALUES ({values("NEW", 1, _NOW_SQLITE)});
            END
            """,  # noqa: S608  # nosec B608
        ],
    }
    remove = {
        "postgresql": [
            f"DROP TRIGGER IF EXISTS {table}_rollup_insert_delete ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_rollup_update ON {table}",
            f"DROP FUNCTION IF EXISTS {table}_rollup_change()",
        ],
        "sqlite": [
            f"DROP TRIGGER IF EXISTS {table}_rollup_insert",
            f"DROP TRIGGER IF EXISTS {table}_rollup_delete",
            f"DROP TRIGGER IF EXISTS {table}_rollup_update",
        ],
    }
    return install, remove


#: The triggers of each counted table, by the name the migrations install them under: the
#: reports' (migration 0009) and the sanctions' (0010, for the dashboard's actions by kind).
TRIGGERS = {
    "reports": _statements(REPORTS, CHANGES, ROW_FIELDS),
    "sanctions": _statements(SANCTIONS, SANCTION_CHANGES, SANCTION_FIELDS),
}


def _run(connection: BaseDatabaseWrapper, statements: dict[str, list[str]]) -> None:
    if connection.vendor not in statements:
        raise NotImplementedError(f"no rollup trigger for database vendor {connection.vendor!r}")
    with connection.cursor() as cursor:
        for statement in statements[connection.vendor]:
            cursor.execute(statement)


def install(connection: BaseDatabaseWrapper, *, tables: tuple[str, ...] = tuple(TRIGGERS)) -> None:
    for name in tables:
        _run(connection, TRIGGERS[name][0])


def remove(connection: BaseDatabaseWrapper, *, tables: tuple[str, ...] = tuple(TRIGGERS)) -> None:
    for name in tables:
        _run(connection, TRIGGERS[name][1])
