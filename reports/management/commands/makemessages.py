"""Django's makemessages, which also reads the Jinja2 templates (templates/jinja2/) and leaves out what
no person reads in a page or a mail (tests, benchmarks, var/).

Django reads every .html file as a Django template. A Jinja2 template's `{{ _("text") }}` happens to be
Django syntax too, but `_("%(n)s reports", n=count)`, `ngettext(...)` and `{% trans %}` blocks are not,
and Django's lexer would silently miss them. So a Jinja2 template is read by Jinja2 itself
(Environment.extract_translations, with the i18n extension of config/jinja2.py; no Babel) and handed
to xgettext as one gettext() call per message, on the line it came from, so that the catalogue's
"#:" references point at the template's own lines.

    python manage.py makemessages -l es -l de      # needs GNU gettext (xgettext, msgmerge)
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.commands import makemessages
from django.template import engines

#: Where the Jinja2 templates are (settings.TEMPLATES), relative to the folder makemessages reads.
JINJA2_DIR = Path("templates") / "jinja2"
#: Never a person's page or mail: tests, benchmarks, the runtime folder.
IGNORED = ["tests/*", "benchmarks/*", "var/*", "static/*", "node_modules/*"]


def is_jinja2(path: str) -> bool:
    return Path(path).resolve().is_relative_to(JINJA2_DIR.resolve())  # makemessages runs in BASE_DIR


def jinja2_as_python(source: str) -> str:
    """The messages of a Jinja2 template as Python gettext()/ngettext() calls, each on its line."""
    lines = [""] * (source.count("\n") + 1)
    for lineno, function, message in engines["jinja2"].env.extract_translations(source):
        # A call with keyword arguments (_("%(n)s active", n=count)) comes as (message, None, ...).
        strings = message if isinstance(message, tuple) else (message,)
        if function in ("gettext", "_") and isinstance(strings[0], str):
            lines[lineno - 1] += f"gettext({strings[0]!r}); "
        elif function == "ngettext" and all(isinstance(m, str) for m in strings[:2]):
            lines[lineno - 1] += f"ngettext({strings[0]!r}, {strings[1]!r}, 1); "
        else:
            raise ValueError(f"line {lineno}: {function}{message!r} is not a literal message")
    return "\n".join(lines)


class Jinja2AwareBuildFile(makemessages.BuildFile):
    def preprocess(self) -> None:
        if not (self.is_templatized and is_jinja2(self.path)):
            return super().preprocess()
        with open(self.path, encoding="utf-8") as source:
            content = jinja2_as_python(source.read())
        with open(self.work_path, "w", encoding="utf-8") as out:
            out.write(content)


class Command(makemessages.Command):
    build_file_class = Jinja2AwareBuildFile

    def handle(self, *args, **options):
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *IGNORED]
        # Line numbers in the "#:" references change with every edit; file names are enough.
        options["add_location"] = options.get("add_location") or "file"
        return super().handle(*args, **options)
