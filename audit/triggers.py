"""Database triggers that refuse DELETE and every UPDATE on the audit table, for each vendor, but
the one the sealer makes: filling an unsealed event's chain columns (seq, prev_hash, hash) once.

The same statements are used by the migrations that install them and by the test suite, which must
lift them for the moment Django empties tables between transactional tests.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "audit_auditevent"
# Filled once, after commit, by audit.services.seal_pending.
CHAIN_COLUMNS = ("seq", "prev_hash", "hash")
# Everything else; no UPDATE may touch these (tests/test_audit_log.py checks the list is complete).
CONTENT_COLUMNS = (
    "id",
    "created_at",
    "event_type",
    "actor_id",
    "actor_label",
    "object_type",
    "object_id",
    "before",
    "after",
    "data",
    "correlation_id",
)

_REFUSED_UPDATE_SQLITE = " OR ".join(
    [
        "OLD.seq IS NOT NULL",
        *(f"NEW.{column} IS NULL" for column in CHAIN_COLUMNS),
        *(f"NEW.{column} IS NOT OLD.{column}" for column in CONTENT_COLUMNS),
    ]
)
_CHAIN_KEYS = " - ".join(f"'{column}'" for column in CHAIN_COLUMNS)

_INSTALL = {
    "postgresql": [
        f"""
        CREATE OR REPLACE FUNCTION {TABLE}_refuse_change() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.seq IS NULL
               AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
               AND (to_jsonb(NEW) - {_CHAIN_KEYS}) = (to_jsonb(OLD) - {_CHAIN_KEYS}) THEN
                RETURN NEW;  -- the sealer linking a committed event into the chain, once
            END IF;
            RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$ LANGUAGE plpgsql
        """,
        f"""
        CREATE OR REPLACE TRIGGER {TABLE}_append_only
        BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION {TABLE}_refuse_change()
        """,
        f"""
        CREATE OR REPLACE TRIGGER {TABLE}_no_truncate
        BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_refuse_change()
        """,
    ],
    "sqlite": [
        f"""
        CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE}
        WHEN {_REFUSED_UPDATE_SQLITE}
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END
        """,
        f"""
        CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused'); END
        """,
    ],
}

_REMOVE = {
    "postgresql": [
        f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
        f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
    ],
    "sqlite": [
        f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
        f"DROP TRIGGER IF EXISTS {TABLE}_no_delete",
    ],
}


def _run(connection: BaseDatabaseWrapper, statements: dict[str, list[str]]) -> None:
    if connection.vendor not in statements:
        raise NotImplementedError(f"no append-only trigger for database vendor {connection.vendor!r}")
    with connection.cursor() as cursor:
        for statement in statements[connection.vendor]:
            cursor.execute(statement)


def install(connection: BaseDatabaseWrapper) -> None:
    _run(connection, _INSTALL)


def remove(connection: BaseDatabaseWrapper) -> None:
    _run(connection, _REMOVE)
