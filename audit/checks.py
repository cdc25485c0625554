"""Deployment checks (`manage.py check --deploy`): the audit log is protected in the database."""

from __future__ import annotations

from django.core.checks import Error, Tags, register
from django.db import DatabaseError, connection

from audit import db_roles, triggers


@register(Tags.security, deploy=True)
def audit_log_protected(app_configs=None, **kwargs) -> list[Error]:
    """On PostgreSQL: the app's role is no superuser, does not own the audit table, cannot truncate it or
    put triggers on it, and the append-only triggers are there, enabled and unchanged."""
    if connection.vendor != "postgresql":
        return []  # SQLite has no roles; the chain's key and checkpoints are what protect it there
    try:
        found = db_roles.problems(connection)
        if not any("no audit_auditevent table" in problem for problem in found):
            found += [f"append-only triggers: {problem}" for problem in triggers.problems(connection)]
    except DatabaseError as error:
        found = [f"could not check the database roles: {error}"]
    hint = (
        "Run the app as a role that owns nothing (DATABASE_URL) and migrate as the owner "
        "(MIGRATE_DATABASE_URL); manage.py db_roles --runtime-role NAME --apply grants what it needs, and "
        "manage.py migrate puts the triggers back."
    )
    return [Error(problem, hint=hint, id=f"audit.E00{min(index, 9)}") for index, problem in enumerate(found, 1)]
