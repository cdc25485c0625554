from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from django.db import connection

from audit.db_roles import runtime_grants


@dataclass
class RuntimeRole:
    """The app's PostgreSQL role as production has it (db_roles' grants), and a connection as it."""

    name: str
    password: str
    url: str
    connection: psycopg.Connection

    def run(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []


def _database_url(*, user: str, password: str = "") -> str:
    settings = connection.settings_dict
    secret = f":{password}" if password else ""
    return f"postgres://{user}{secret}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"


@pytest.fixture
def owner_url() -> str:
    """The test database as its owner (the role the suite runs as)."""
    return _database_url(user=connection.settings_dict["USER"], password=connection.settings_dict["PASSWORD"] or "")


@pytest.fixture
def runtime_role(transactional_db) -> Iterator[RuntimeRole]:
    """A non-owner runtime role on the test database, granted exactly what `db_roles` grants.

    Roles are cluster-wide: the name is the test database's (unique per run's database), created
    idempotently, and dropped with everything it was granted at the end.
    """
    if connection.vendor != "postgresql":
        pytest.skip("database roles are PostgreSQL's")
    name = f"{connection.settings_dict['NAME']}_runtime"[:63]
    password = secrets.token_urlsafe(16)
    with connection.cursor() as cursor:
        for statement in runtime_grants(connection=connection, runtime_role=name, create_role=True):
            cursor.execute(statement)
        # (token_urlsafe: letters, digits, - and _ only; utility statements take no parameters)
        cursor.execute(f"ALTER ROLE \"{name}\" PASSWORD '{password}'")
    url = _database_url(user=name, password=password)
    as_runtime = psycopg.connect(url, autocommit=True)
    try:
        yield RuntimeRole(name, password, url, as_runtime)
    finally:
        as_runtime.close()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{name}"')
            cursor.execute(f'DROP ROLE IF EXISTS "{name}"')
