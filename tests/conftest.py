from __future__ import annotations

import io
import os

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone, translation
from PIL import Image

from audit import triggers
from moderation import rollup_triggers
from moderation.models import RollupState
from moderation.roles import sync_role_groups
from reports.models import Report
from tests.factories import UserFactory

# Playwright's sync API runs an event loop in the main thread; Django must still allow DB access.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_configure(config):
    """The translation catalogues compiled (bin/test does it too), so that a bare pytest run reads
    the same Spanish and German as a deployment; only those whose .po changed are compiled again."""
    from reports.management.commands.compilemessages import compile_all

    compile_all()


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    cache.clear()  # throttle counters must not leak from one test into the next
    # Each request activates its language in the thread (LocaleMiddleware) and leaves it there: a test
    # that calls a service directly starts in the default language, whatever the last request spoke.
    translation.activate(settings.LANGUAGE_CODE)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Seal the audit chain after every commit (production seals at most once a second per process).
    settings.AUDIT_SEAL_INTERVAL = 0
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        "audit_checkpoints": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "audit-checkpoints"},
        },
    }


def _uses_transactions(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(
        {"transactional_db", "live_server"} & set(request.fixturenames) or (marker and marker.kwargs.get("transaction"))
    )


@pytest.fixture(autouse=True)
def _audit_triggers(request):
    """Keep the append-only triggers (and the dashboard rollups' triggers) in place for every test
    that touches the database.

    Django empties tables between transactional tests (TRUNCATE or DELETE), which the audit triggers
    rightly refuse and SQLite's DELETE would feed to the rollup triggers; so for those tests the
    triggers are lifted after the test, just before the flush, and put back at the start of the next.
    """
    uses_db = {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    if not uses_db and not request.node.get_closest_marker("django_db"):
        yield
        return
    transactional = _uses_transactions(request)
    request.getfixturevalue("transactional_db" if transactional else "db")
    triggers.install(connection)
    rollup_triggers.install(connection)
    if transactional:
        # The flush after an earlier transactional test also emptied what migrations created:
        # content types, permissions and the role groups. Put them back as the migrations would.
        sync_role_groups(django_apps)
    if not RollupState.objects.exists() and not Report.objects.exists():
        # Likewise the rollups' state: on an empty database the migration marks them built.
        now = timezone.now()
        RollupState.objects.create(time_zone=settings.TIME_ZONE, built_at=now, folded_at=now)
    yield
    if transactional:
        triggers.remove(connection)
        rollup_triggers.remove(connection)


@pytest.fixture
def user(db):
    return UserFactory(username="reporter")


@pytest.fixture
def other_user(db):
    return UserFactory(username="someone_else")


@pytest.fixture
def moderator(db):
    return UserFactory(username="moderator1", role="moderator")


@pytest.fixture
def compliance(db):
    return UserFactory(username="compliance1", role="compliance")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin1", role="admin")


def png_bytes(
    size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 30, 30), exif: bool = False
) -> bytes:
    image = Image.new("RGB", size, colour)
    buffer = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "SpyCam Inc."  # Make
        image.save(buffer, format="JPEG", exif=data.tobytes())
    else:
        image.save(buffer, format="PNG")
    return buffer.getvalue()
