"""Two PostgreSQL roles: the owner runs migrations, the app runs as a role that owns nothing.

The runtime role (the user in DATABASE_URL) may read and write the app's tables, but on the audit
table only read, insert, and fill an unsealed event's chain columns (the triggers refuse any other
fill). Not being the owner, it can neither alter, disable nor drop the triggers, nor truncate the
table. The owner (the user in MIGRATE_DATABASE_URL) runs `migrate` and `db_roles --apply`.

`runtime_grants` is the SQL that `manage.py db_roles` prints and applies; `problems` is what the
deployment check (audit.checks) and the red-team tests ask of the role the app runs as.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from audit.triggers import CHAIN_COLUMNS, CONTENT_COLUMNS, TABLE

# Tables the runtime reads but never writes: the migration history is the owner's.
READ_ONLY_TABLES = {"django_migrations"}
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class InvalidRoleName(ValueError):
    pass


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _identifier(name: str) -> str:
    # The runtime role's name also goes into a string literal (--create-role): plain names only.
    if not _ROLE_NAME.fullmatch(name):
        raise InvalidRoleName(f"{name!r}: use lower-case letters, digits and underscores (at most 63)")
    return _quote(name)


@contextmanager
def owner_connection(alias: str = DEFAULT_DB_ALIAS) -> Iterator[BaseDatabaseWrapper]:
    """The connection reconnected as the owner (MIGRATE_DATABASE_URL) while inside; itself when unset.

    Used by `migrate` and `db_roles --apply`: one process that needs the owner swaps its one
    connection's credentials, so there is no second database alias for tests and routers to know.
    """
    owner = settings.MIGRATE_DATABASE
    connection = connections[alias]
    if not owner:
        yield connection
        return
    keys = ("NAME", "USER", "PASSWORD", "HOST", "PORT")
    saved = {key: connection.settings_dict.get(key) for key in keys}
    connection.close()
    connection.settings_dict.update({key: owner.get(key) for key in keys})
    try:
        yield connection
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def runtime_grants(*, connection: BaseDatabaseWrapper, runtime_role: str, create_role: bool = False) -> list[str]:
    """The statements that give `runtime_role` exactly what the app needs (and take away anything
    else on the app's tables). Run by the owner; safe to run again after every migrate."""
    if connection.vendor != "postgresql":
        raise NotImplementedError("database roles are PostgreSQL's; SQLite has one user, the file's owner")
    role = _identifier(runtime_role)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_database(), current_schema(), "
            "(SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() AND tablename = %s), current_user",
            [TABLE],
        )
        database, schema, table_owner, current_user = cursor.fetchone()
        tables = sorted(connection.introspection.table_names(cursor))
    if table_owner is None:
        raise LookupError(f"no {TABLE} table in this database: run manage.py migrate first")
    if table_owner == runtime_role:
        raise ValueError(f"{runtime_role} owns the tables; the runtime role must be another role")
    owner, schema_name = _quote(table_owner), _quote(schema)
    statements = []
    if create_role:
        # bandit B608: the role name passed _identifier's check (lower-case letters, digits, _ only)
        statements.append(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{runtime_role}') THEN "  # nosec B608
            f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS; "
            "END IF; END $$"
        )
    statements += [
        f"GRANT CONNECT ON DATABASE {_quote(database)} TO {role}",
        f"GRANT USAGE ON SCHEMA {schema_name} TO {role}",
        f"REVOKE CREATE ON SCHEMA {schema_name} FROM {role}",
        # From nothing, so that running this again takes back anything granted by hand since.
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema_name} FROM {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema_name} FROM {role}",
    ]
    for name in tables:
        table = _quote(name)
        if name == TABLE:
            statements += [
                f"GRANT SELECT, INSERT ON TABLE {table} TO {role}",
                # The sealer's one UPDATE; the triggers allow it once per event, on these columns only.
                f"GRANT UPDATE ({', '.join(CHAIN_COLUMNS)}) ON TABLE {table} TO {role}",
            ]
        elif name in READ_ONLY_TABLES:
            statements.append(f"GRANT SELECT ON TABLE {table} TO {role}")
        else:
            statements.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {table} TO {role}")
    statements += [
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema_name} TO {role}",
        # Tables a later migration creates are the app's to use too (never the audit table: it exists).
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema_name} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema_name} GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]
    return statements


def problems(connection: BaseDatabaseWrapper) -> list[str]:
    """What the role this connection runs as could do to the audit log that it must not."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, r.rolsuper, t.tableowner, pg_has_role(current_user, t.tableowner, 'MEMBER'), "
            "has_table_privilege(current_user, t.tablename, 'TRUNCATE'), "
            "has_table_privilege(current_user, t.tablename, 'TRIGGER'), "
            "has_table_privilege(current_user, t.tablename, 'DELETE'), "
            "has_table_privilege(current_user, t.tablename, 'REFERENCES') "
            "FROM pg_roles r LEFT JOIN pg_tables t ON t.schemaname = current_schema() AND t.tablename = %s "
            "WHERE r.rolname = current_user",
            [TABLE],
        )
        user, superuser, owner, acts_as_owner, truncate, trigger, delete, references = cursor.fetchone()
        if owner is None:
            return [f"there is no {TABLE} table: run manage.py migrate"]
        if superuser:
            return [f"the app's database role {user} is a superuser: it can disable the audit triggers"]
        found = []
        if acts_as_owner:
            found.append(
                f"the app's database role {user} owns the audit table (or can act as its owner {owner}): "
                "it can disable or drop the append-only triggers"
            )
        refused = [
            name
            for name, granted in (
                ("TRUNCATE", truncate),
                ("TRIGGER", trigger),
                ("DELETE", delete),
                ("REFERENCES", references),
            )
            if granted
        ]
        cursor.execute(
            "SELECT column_name FROM unnest(%s::text[]) AS column_name "
            "WHERE has_column_privilege(current_user, %s, column_name, 'UPDATE')",
            [list(CONTENT_COLUMNS), TABLE],
        )
        refused += [f"UPDATE ({column})" for (column,) in cursor.fetchall()]
        if refused and not acts_as_owner:
            found.append(
                f"the app's database role {user} has {', '.join(refused)} on the audit table; "
                "run manage.py db_roles --runtime-role " + user + " --apply"
            )
    return found
