"""Compiles the project's catalogues (LOCALE_PATHS: locale/<language>/LC_MESSAGES/django.po) into
the .mo files Django reads, with polib: no GNU gettext on the machine (Django's own compilemessages
calls msgfmt). Fuzzy and untranslated entries are left out, as msgfmt leaves them out. bin/test,
bin/demo and a deployment run it; .mo files are built, never committed (.gitignore).

    python manage.py compilemessages
"""

from __future__ import annotations

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


def catalogues() -> list[Path]:
    return sorted(po for base in settings.LOCALE_PATHS for po in Path(base).glob("*/LC_MESSAGES/*.po"))


def compile_all(*, force: bool = False) -> list[Path]:
    """Compile each .po whose .mo is missing or older; returns the .mo files written."""
    written = []
    for po in catalogues():
        mo = po.with_suffix(".mo")
        if force or not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            polib.pofile(str(po)).save_as_mofile(str(mo))
            written.append(mo)
    return written


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po into .mo (with polib; GNU gettext is not needed)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true", help="compile every catalogue, even up to date ones")
        # Django's own options, accepted so that the usual invocations work (every catalogue is ours).
        parser.add_argument("--locale", "-l", action="append", default=[], help="ignored: all are compiled")

    def handle(self, *args, force: bool = False, **options) -> None:
        written = compile_all(force=force)
        for mo in written:
            self.stdout.write(f"compiled {mo.relative_to(settings.BASE_DIR)}")
        self.stdout.write(
            f"{len(written)} of {len(catalogues())} catalogues compiled ({len(catalogues()) - len(written)} up to date)"
        )
