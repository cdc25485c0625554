"""Settings come from the environment: production passes Django's deployment checks and refuses to
start without a secret key. Each case runs manage.py in a fresh process with only that environment."""

from __future__ import annotations

import json
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
SHOW_SETTINGS = (
    "from django.conf import settings; import json; print(json.dumps({name: getattr(settings, name) for name in "
    "['DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', "
    "'ALLOWED_HOSTS', 'EMAIL_BACKEND', 'REPORTS_PER_HOUR_LIMIT', 'SITE_URL']}))"
)


def random_secret_key() -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(50))


# What production requires besides SECRET_KEY and ALLOWED_HOSTS (README, "Running it for real").
PRODUCTION_SECRETS = {"AUDIT_SIGNING_KEY": "a-key-the-database-never-holds", "REDIS_URL": "redis://127.0.0.1:6379/0"}


def manage(*args: str, tmp_path: Path, **environment: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "VAR_DIR": str(tmp_path), **environment}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_passes_check_deploy_without_warnings(tmp_path):
    """On SQLite; on PostgreSQL with the two roles it is tests/redteam/test_database_role.py's."""
    result = manage(
        "check",
        "--deploy",
        tmp_path=tmp_path,
        DJANGO_ENV="production",
        SECRET_KEY=random_secret_key(),
        ALLOWED_HOSTS="example.com",
        **PRODUCTION_SECRETS,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert "WARNING" not in result.stderr and "security.W" not in result.stdout + result.stderr


@pytest.mark.parametrize("debug", [None, "1"], ids=["debug-off", "debug-forced-on"])
def test_production_refuses_to_start_without_a_secret_key(tmp_path, debug):
    extra = {"DJANGO_DEBUG": debug} if debug else {}
    result = manage("check", tmp_path=tmp_path, DJANGO_ENV="production", ALLOWED_HOSTS="example.com", **extra)
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set in production" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts(tmp_path):
    result = manage("check", tmp_path=tmp_path, DJANGO_ENV="production", SECRET_KEY=random_secret_key())
    assert result.returncode != 0 and "ALLOWED_HOSTS must be set in production" in result.stderr


def test_an_unknown_environment_name_is_refused(tmp_path):
    result = manage("check", tmp_path=tmp_path, DJANGO_ENV="staging")
    assert result.returncode != 0 and "DJANGO_ENV must be 'development' or 'production'" in result.stderr


@pytest.mark.parametrize(
    ("allowed_hosts", "site_url", "message"),
    [
        (".example.com", None, "SITE_URL must be set in production"),  # a wildcard names no host
        ("*", None, "SITE_URL must be set in production"),
        ("example.com", "http://example.com", "SITE_URL must start with https://"),
        ("example.com", "example.com", "SITE_URL must start with https://"),
    ],
)
def test_production_needs_an_https_site_url_for_the_links_in_mail(tmp_path, allowed_hosts, site_url, message):
    extra = {"SITE_URL": site_url} if site_url else {}
    result = manage(
        "check",
        tmp_path=tmp_path,
        DJANGO_ENV="production",
        SECRET_KEY=random_secret_key(),
        ALLOWED_HOSTS=allowed_hosts,
        **extra,
    )
    assert result.returncode != 0 and message in result.stderr


def test_a_site_url_set_is_taken_without_its_trailing_slash(tmp_path):
    result = manage(
        "shell",
        "-c",
        SHOW_SETTINGS,
        tmp_path=tmp_path,
        DJANGO_ENV="production",
        SECRET_KEY=random_secret_key(),
        ALLOWED_HOSTS=".example.com",
        SITE_URL="https://reports.example.com/",
        **PRODUCTION_SECRETS,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["SITE_URL"] == "https://reports.example.com"


def test_a_shell_on_a_database_without_an_audit_log_opens_and_says_nothing_was_recorded(tmp_path):
    """A fresh database (not migrated) has nothing to act on unseen; on a migrated one the shell
    first records host.shell_opened (tests/test_commands.py)."""
    result = manage("shell", "-c", "print(6 * 7)", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "42"
    assert "no audit log yet (not migrated): nothing was recorded" in result.stderr


def test_an_hourly_report_limit_below_one_is_refused(tmp_path):
    result = manage("check", tmp_path=tmp_path, REPORTS_PER_HOUR_LIMIT="0")
    assert result.returncode != 0 and "REPORTS_PER_HOUR_LIMIT must be at least 1" in result.stderr


def test_production_and_development_defaults(tmp_path):
    production = manage(
        "shell",
        "-c",
        SHOW_SETTINGS,
        tmp_path=tmp_path,
        DJANGO_ENV="production",
        SECRET_KEY=random_secret_key(),
        ALLOWED_HOSTS="example.com,www.example.com",
        REPORTS_PER_HOUR_LIMIT="7",
        **PRODUCTION_SECRETS,
    )
    assert production.returncode == 0, production.stderr
    values = json.loads(production.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SECURE_SSL_REDIRECT"]
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert values["ALLOWED_HOSTS"] == ["example.com", "www.example.com"]
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["REPORTS_PER_HOUR_LIMIT"] == 7
    assert values["SITE_URL"] == "https://example.com"  # mail's links: the first host, over HTTPS

    development = manage("shell", "-c", SHOW_SETTINGS, tmp_path=tmp_path)
    assert development.returncode == 0, development.stderr
    values = json.loads(development.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is True and values["SECURE_SSL_REDIRECT"] is False
    assert "localhost" in values["ALLOWED_HOSTS"]
    assert values["REPORTS_PER_HOUR_LIMIT"] == 20
    assert values["SITE_URL"] == "http://127.0.0.1:8000"


def test_an_empty_variable_counts_as_unset(tmp_path):
    """DATABASE_URL= (as an env file or a compose template leaves it) falls back to SQLite under VAR_DIR."""
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['NAME'])",
        tmp_path=tmp_path,
        DATABASE_URL="",
        TIME_ZONE="",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(tmp_path / "db.sqlite3")


#: The project's own commands in production: the ops commands of the README's table, nothing else.
OPS_COMMANDS = {
    # The translation catalogues: compiled at deployment, gathered again when strings change.
    "compilemessages",
    "makemessages",
    "audit_checkpoint",
    "audit_reconcile",
    "audit_seal",
    "audit_verify",
    "create_platform_key",
    "create_staff",
    # Django's, each with its audit event (audit/management/commands/).
    "changepassword",
    "createsuperuser",
    "db_roles",
    "dbshell",
    "deliver_mail",
    "deliver_webhooks",
    "expire_sanctions",
    "export_statements",
    "hashbank_import",
    "hashbank_retire",
    "migrate",
    "purge_evidence",
    "rollup_reports",
    "seed_demo",
    "shell",
    "sla_sweep",
    "transparency_report",
}
BENCHMARK_COMMANDS = {
    "bench_data",
    "bench_filing",
    "bench_hashbank",
    "bench_queue",
    "bench_signals",
    "reliability_outage",
}


def project_commands(help_text: str) -> dict[str, set[str]]:
    """`manage.py help`'s sections of this project's apps: {app: its commands}."""
    sections: dict[str, set[str]] = {}
    current = None
    for line in help_text.splitlines():
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line.strip("[]"), set())
        elif current is not None and line.startswith("    "):
            current.add(line.strip())
    ours = {"audit", "reports", "moderation", "enforcement", "hashbank", "benchmarks"}
    return {app: commands for app, commands in sections.items() if app in ours}


def test_production_manage_py_help_lists_only_the_ops_commands(tmp_path):
    production = manage(
        "help",
        tmp_path=tmp_path,
        DJANGO_ENV="production",
        SECRET_KEY=random_secret_key(),
        ALLOWED_HOSTS="example.com",
        **PRODUCTION_SECRETS,
    )
    assert production.returncode == 0, production.stderr
    found = project_commands(production.stdout)
    assert "benchmarks" not in found
    assert set().union(*found.values()) == OPS_COMMANDS
    # Outside production the benchmarks app adds its commands, and only those.
    development = manage("help", tmp_path=tmp_path)
    assert development.returncode == 0, development.stderr
    assert project_commands(development.stdout)["benchmarks"] == BENCHMARK_COMMANDS


def test_the_readme_lists_the_ops_commands_as_production_has_them():
    readme = (BASE_DIR / "README.md").read_text()
    table = readme.split("## Ops commands", 1)[1].split("\n## ", 1)[0]
    listed = {line.split("`")[1].split()[0] for line in table.splitlines() if line.startswith("| `")}
    assert listed == OPS_COMMANDS


@pytest.mark.parametrize("missing", sorted(PRODUCTION_SECRETS))
def test_production_refuses_to_start_without_its_audit_key_or_shared_cache(tmp_path, missing):
    environment = {name: value for name, value in PRODUCTION_SECRETS.items() if name != missing}
    result = manage(
        "check",
        tmp_path=tmp_path,
        DJANGO_ENV="production",
        SECRET_KEY=random_secret_key(),
        ALLOWED_HOSTS="example.com",
        **environment,
    )
    assert result.returncode != 0 and f"{missing} must be set in production" in result.stderr
