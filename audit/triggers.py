"""Database triggers that refuse DELETE, TRUNCATE and every UPDATE on the audit table, for each vendor,
but the one the sealer makes: filling an unsealed event's chain columns (seq, prev_hash, hash, key_id)
once.

The same statements are used by the migrations that install them, by `migrate` (which puts them back
after every run, audit.apps), by `audit_verify` and the deployment check (which report them missing,
disabled or altered: `problems`), and by the test suite, which must lift them for the moment Django
empties tables between transactional tests.

Triggers stop the app's own database role, which owns nothing (manage.py db_roles) and so can neither
drop nor disable them. The owner can; what the owner changes behind them is caught by the keyed chain
and the checkpoints (audit.verify), not here.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "audit_auditevent"
FUNCTION = f"{TABLE}_refuse_change"
# Filled once, after commit, by audit.services.seal_pending.
CHAIN_COLUMNS = ("seq", "prev_hash", "hash", "key_id")
# Before the chain was keyed (migration 0003 installs these; 0004 the current ones).
UNKEYED_CHAIN_COLUMNS = ("seq", "prev_hash", "hash")
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
    "origin",
)
# Before events carried their origin tag (migration 0005 installs the current ones).
UNTAGGED_CONTENT_COLUMNS = CONTENT_COLUMNS[:-1]
# PostgreSQL's pg_trigger.tgtype bits: 1 row, 2 before, 8 delete, 16 update, 32 truncate.
_PG_TRIGGERS = {f"{TABLE}_append_only": 1 | 2 | 8 | 16, f"{TABLE}_no_truncate": 2 | 32}
_SQLITE_TRIGGERS = (f"{TABLE}_no_update", f"{TABLE}_no_delete")


def _pg_function_body(chain_columns: tuple[str, ...]) -> str:
    filled = " AND ".join(f"NEW.{column} IS NOT NULL" for column in chain_columns)
    chain_keys = " - ".join(f"'{column}'" for column in chain_columns)
    return f"""
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND {filled}
       AND (to_jsonb(NEW) - {chain_keys}) = (to_jsonb(OLD) - {chain_keys}) THEN
        RETURN NEW;  -- the sealer linking a committed event into the chain, once
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
"""


def _sqlite_statements(chain_columns: tuple[str, ...], content_columns: tuple[str, ...] = CONTENT_COLUMNS) -> list[str]:
    refused_update = " OR ".join(
        [
            "OLD.seq IS NOT NULL",
            *(f"NEW.{column} IS NULL" for column in chain_columns),
            *(f"NEW.{column} IS NOT OLD.{column}" for column in content_columns),
        ]
    )
    return [
        f"""CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
        WHEN {refused_update}
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END""",
        f"""CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused'); END""",
    ]


# The table's name written out (it is TABLE): a formatted string here reads as SQL injection to linters.
_ENABLE_DISABLED = """DO $$ DECLARE name text; BEGIN
    FOR name IN SELECT tgname FROM pg_trigger
                WHERE tgrelid = 'audit_auditevent'::regclass AND NOT tgisinternal AND tgenabled = 'D' LOOP
        EXECUTE format('ALTER TABLE audit_auditevent ENABLE TRIGGER %I', name);
    END LOOP;
END $$"""


def _install_statements(
    vendor: str, chain_columns: tuple[str, ...], content_columns: tuple[str, ...] = CONTENT_COLUMNS
) -> list[str]:
    if vendor == "postgresql":
        return [
            f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $${_pg_function_body(chain_columns)}$$ "
            "LANGUAGE plpgsql",
            f"""CREATE OR REPLACE TRIGGER {TABLE}_append_only
            BEFORE UPDATE OR DELETE ON {TABLE}
            FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()""",
            f"""CREATE OR REPLACE TRIGGER {TABLE}_no_truncate
            BEFORE TRUNCATE ON {TABLE}
            FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()""",
            # A trigger the owner disabled stays disabled through CREATE OR REPLACE. (ALTER TABLE only
            # when one is: it is refused inside a transaction with deferred checks still pending.)
            _ENABLE_DISABLED,
        ]
    if vendor == "sqlite":
        # Dropped first: CREATE TRIGGER IF NOT EXISTS would keep an altered trigger of the same name.
        return [*_remove_statements(vendor), *_sqlite_statements(chain_columns, content_columns)]
    raise NotImplementedError(f"no append-only trigger for database vendor {vendor!r}")


def _remove_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {TABLE}" for name in _PG_TRIGGERS]
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}" for name in _SQLITE_TRIGGERS]
    raise NotImplementedError(f"no append-only trigger for database vendor {vendor!r}")


def _run(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install(
    connection: BaseDatabaseWrapper,
    *,
    chain_columns: tuple[str, ...] = CHAIN_COLUMNS,
    content_columns: tuple[str, ...] = CONTENT_COLUMNS,
) -> None:
    _run(connection, _install_statements(connection.vendor, chain_columns, content_columns))


def remove(connection: BaseDatabaseWrapper) -> None:
    _run(connection, _remove_statements(connection.vendor))


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def problems(connection: BaseDatabaseWrapper) -> list[str]:
    """What is wrong with the triggers as they are in the database: missing, disabled, or not ours."""
    found: list[str] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT t.tgname, t.tgtype, t.tgenabled, p.proname, p.prosrc FROM pg_trigger t "
                "JOIN pg_proc p ON p.oid = t.tgfoid WHERE t.tgrelid = to_regclass(%s) AND NOT t.tgisinternal",
                [TABLE],
            )
            present = {name: (kind, enabled, function, source) for name, kind, enabled, function, source in cursor}
            for name, kind in _PG_TRIGGERS.items():
                if name not in present:
                    found.append(f"trigger {name} is missing")
                    continue
                actual_kind, enabled, function, source = present[name]
                if enabled not in ("O", "A"):
                    found.append(f"trigger {name} is disabled")
                if actual_kind != kind or function != FUNCTION:
                    found.append(f"trigger {name} is not the append-only trigger")
                elif _squeeze(source) != _squeeze(_pg_function_body(CHAIN_COLUMNS)):
                    found.append(f"function {FUNCTION} was changed")
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
            present = dict(cursor.fetchall())
            for name, expected in zip(_SQLITE_TRIGGERS, _sqlite_statements(CHAIN_COLUMNS), strict=True):
                if name not in present:
                    found.append(f"trigger {name} is missing")
                elif _squeeze(present[name]) != _squeeze(expected):
                    found.append(f"trigger {name} was changed")
        else:
            found.append(f"no append-only trigger for database vendor {connection.vendor!r}")
    return list(dict.fromkeys(found))  # one function behind both triggers: say it once
