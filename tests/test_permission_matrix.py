"""The permission matrix of every URL the project serves, pages, API and Django's admin, for every
kind of caller: anonymous, the user (whose report, notice, appeal and token the sample URLs name),
another user, moderator, compliance, admin, and the platform's servers (a platform key).

The URLs come from the URL resolver, not from a list kept by hand: a new route without a row in
EXPECTED fails `test_every_route_has_a_row`, so no view can be added without deciding who may use
it. Each route is called with a sample URL filled with real objects (and, for actions, a valid
body, so that the answer is the permission's and not a form error); then again with objects that
do not exist, where whoever could use the real one must get 404, and whoever could not must get
the same answer as for the real one (so that nobody learns which ids exist).

Each request runs in a savepoint that is rolled back, so one world serves every route and role.
Pages are called with a session; the API with the person's token (or the platform key).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from audit.models import AuditEvent
from moderation.enforcement.models import AccountStanding
from moderation.enforcement.notices import appeal_token, complaint_appeal_token
from moderation.signals.models import Detector, SignalPolicy
from reports.models import ReportStatus
from reports.services import api_token_create
from tests.conftest import png_bytes
from tests.factories import (
    AppealFactory,
    EvidenceFactory,
    NoticeFactory,
    ReportFactory,
    SanctionFactory,
    TargetFactory,
    UserFactory,
    api_token_key,
    platform_key,
)
from tests.test_stories import submit

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "user", "other", "moderator", "compliance", "admin", "platform")
PEOPLE = ("user", "other", "moderator", "compliance", "admin")

# Answers that are not a plain status code.
LOGIN = "302 to /accounts/login/"
ADMIN_LOGIN = "302 to /django-admin/login/"
REDIRECT = "302 elsewhere"  # a redirect that is not to a sign-in page (a done action, a moved page)


# --- the URL resolver ------------------------------------------------------------------------------


def routes(patterns=None, prefix: str = "") -> Iterator[str]:
    """Every route the project serves, as its full pattern text ("moderation/reports/<uuid:report_id>/")."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from routes(entry.url_patterns, prefix + str(entry.pattern))
        else:
            assert isinstance(entry, URLPattern)
            yield prefix + str(entry.pattern)


# --- the expectations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    url: Callable[[Any], str]
    expect: dict[str, int | str]
    method: str = "GET"
    data: Callable[[Any], dict] | None = None
    check_missing: bool = True  # also call it with objects that do not exist
    # With an object that does not exist, whoever may see the object but not do this gets 404, not 403.
    missing: dict[str, int | str] = field(default_factory=dict)


def page(*, anonymous: int | str = LOGIN, **answers: int | str) -> dict[str, int | str]:
    """A page: the platform key means nothing to pages, so it is answered like an anonymous caller."""
    answers.setdefault("other", answers["user"])
    return {"anonymous": anonymous, "platform": anonymous, **answers}


def everyone(answer: int | str, *, anonymous: int | str | None = None) -> dict[str, int | str]:
    return {role: answer for role in ROLES} | ({"anonymous": anonymous, "platform": anonymous} if anonymous else {})


def staff(moderator: int | str, compliance: int | str | None = None, admin: int | str | None = None, *, user=403):
    """A staff page: a plain user gets `user` (403, or 404 where a report's existence is at stake)."""
    compliance = moderator if compliance is None else compliance
    admin = compliance if admin is None else admin
    return page(user=user, moderator=moderator, compliance=compliance, admin=admin)


def api(*, user, other=None, moderator=None, compliance=None, admin=None, platform=403, anonymous=401):
    other = user if other is None else other
    moderator = user if moderator is None else moderator
    compliance = moderator if compliance is None else compliance
    admin = compliance if admin is None else admin
    return {
        "anonymous": anonymous,
        "user": user,
        "other": other,
        "moderator": moderator,
        "compliance": compliance,
        "admin": admin,
        "platform": platform,
    }


def _reason(w) -> dict:
    return {"reason": "Checked for the permission matrix."}


EXPECTED: dict[str, Row] = {
    # --- public and account pages
    "": Row(lambda w: "/", everyone(REDIRECT, anonymous=200)),
    "accounts/login/": Row(lambda w: "/accounts/login/", everyone(REDIRECT, anonymous=200)),
    "accounts/logout/": Row(lambda w: "/accounts/logout/", everyone(REDIRECT), method="POST", data=lambda w: {}),
    # The language switcher: anyone may choose a language (POST, CSRF-checked), and is sent back.
    "i18n/setlang/": Row(
        lambda w: "/i18n/setlang/", everyone(REDIRECT), method="POST", data=lambda w: {"language": "es", "next": "/"}
    ),
    "complaint/": Row(lambda w: "/complaint/", everyone(200)),
    # Thanks for the complaint this session sent; without one, back to the form.
    "complaint/received/": Row(lambda w: "/complaint/received/", everyone(REDIRECT)),
    "demo/": Row(lambda w: "/demo/", page(user=200, moderator=200, compliance=200, admin=200)),
    "account/": Row(lambda w: "/account/", page(user=200, moderator=200, compliance=200, admin=200)),
    "account/tokens/": Row(
        lambda w: "/account/tokens/",
        page(user=201, moderator=201, compliance=201, admin=201),
        method="POST",
        data=lambda w: {"name": "matrix"},
    ),
    "account/tokens/<int:token_id>/revoke/": Row(
        lambda w: f"/account/tokens/{w.api_token.pk}/revoke/",
        page(user=REDIRECT, other=404, moderator=404, compliance=404, admin=404),
        method="POST",
        data=lambda w: {},
    ),
    "account/notices/": Row(lambda w: "/account/notices/", page(user=200, moderator=200, compliance=200, admin=200)),
    "account/notices/<uuid:notice_id>/": Row(
        lambda w: f"/account/notices/{w.notice.pk}/",
        page(user=200, other=404, moderator=404, compliance=404, admin=404),
    ),
    "appeal/<str:token>/": Row(lambda w: f"/appeal/{w.appeal_token}/", everyone(200)),
    # The link in a dismissed complaint's outcome mail: the token is the credential, signed in or not.
    "appeal/complaint/<str:token>/": Row(lambda w: f"/appeal/complaint/{w.complaint_appeal_token}/", everyone(200)),
    # --- the reporter's side
    "report/new/": Row(
        lambda w: f"/report/new/?target={w.target.public_id}", page(user=200, moderator=200, compliance=200, admin=200)
    ),
    "report/mine/": Row(lambda w: "/report/mine/", page(user=200, moderator=200, compliance=200, admin=200)),
    "report/<uuid:report_id>/": Row(
        lambda w: f"/report/{w.report.pk}/", page(user=200, other=404, moderator=404, compliance=404, admin=404)
    ),
    "report/<uuid:report_id>/appeal/": Row(
        lambda w: f"/report/{w.report_dismissed.pk}/appeal/",
        page(user=REDIRECT, other=404, moderator=404, compliance=404, admin=404),
        method="POST",
        data=lambda w: {"text": "Please look at my report again."},
    ),
    # --- the queue and the report page (moderators and up; compliance-only and admin-only actions)
    "moderation/": Row(lambda w: "/moderation/", staff(200)),
    "moderation/dashboard/": Row(lambda w: "/moderation/dashboard/", staff(200)),
    "moderation/next/": Row(lambda w: "/moderation/next/", staff(REDIRECT), "POST", lambda w: {}),
    "moderation/new/": Row(lambda w: "/moderation/new/?since=2026-01-01T00:00:00%2B00:00", staff(200)),
    "moderation/bulk/": Row(
        lambda w: "/moderation/bulk/",
        staff(REDIRECT),
        "POST",
        lambda w: {"ids": [w.report.pk], "action": "reviewed", "query": ""},
    ),
    "moderation/reports/<str:report_id>/": Row(lambda w: f"/moderation/reports/{w.report.pk}/", staff(200, user=404)),
    "moderation/reports/<uuid:report_id>/review/": Row(
        lambda w: f"/moderation/reports/{w.report.pk}/review/",
        staff(REDIRECT, user=404),
        "POST",
        lambda w: {"status": "reviewed", "expected_status": "pending"},
    ),
    "moderation/reports/<uuid:report_id>/assign/": Row(
        lambda w: f"/moderation/reports/{w.report.pk}/assign/",
        staff(REDIRECT, user=404),
        "POST",
        lambda w: {"assignee": w.people["moderator"].pk, "expected_assignee": ""},
    ),
    "moderation/reports/<uuid:report_id>/escalate/": Row(
        lambda w: f"/moderation/reports/{w.report.pk}/escalate/", staff(REDIRECT, user=404), "POST", _reason
    ),
    "moderation/reports/<uuid:report_id>/deescalate/": Row(
        lambda w: f"/moderation/reports/{w.report.pk}/deescalate/",
        staff(403, REDIRECT, user=404),
        "POST",
        _reason,
        missing={"moderator": 404},
    ),
    "moderation/reports/<uuid:report_id>/reopen/": Row(
        lambda w: f"/moderation/reports/{w.report_closed.pk}/reopen/",
        staff(403, 403, REDIRECT, user=404),
        "POST",
        _reason,
        missing={"moderator": 404, "compliance": 404},
    ),
    "moderation/reports/<uuid:report_id>/notes/": Row(
        lambda w: f"/moderation/reports/{w.report.pk}/notes/",
        staff(REDIRECT, user=404),
        "POST",
        lambda w: {"body": "A note from the matrix."},
    ),
    "moderation/reports/<uuid:report_id>/ask/": Row(
        lambda w: f"/moderation/reports/{w.report.pk}/ask/",
        staff(REDIRECT, user=404),
        "POST",
        lambda w: {"question": "When did it happen?"},
    ),
    "moderation/reports/<uuid:report_id>/link/": Row(
        lambda w: f"/moderation/reports/{w.report.pk}/link/",
        staff(REDIRECT, user=404),
        "POST",
        lambda w: {"username": "reported_account"},
    ),
    "moderation/evidence/<uuid:evidence_id>/": Row(
        lambda w: f"/moderation/evidence/{w.evidence.pk}/", staff(200, user=404)
    ),
    "moderation/targets/<uuid:public_id>/snapshot/": Row(
        lambda w: f"/moderation/targets/{w.target.public_id}/snapshot/", staff(200, user=404)
    ),
    # --- enforcement
    "moderation/reports/<uuid:report_id>/decide/": Row(
        lambda w: f"/moderation/reports/{w.report.pk}/decide/", staff(200)
    ),
    "moderation/reports/<uuid:report_id>/unfounded/": Row(
        lambda w: f"/moderation/reports/{w.report.pk}/unfounded/", staff(REDIRECT), "POST", lambda w: {}
    ),
    "moderation/reports/<uuid:report_id>/hold/": Row(
        lambda w: f"/moderation/reports/{w.report.pk}/hold/",
        staff(403, REDIRECT),
        "POST",
        lambda w: {"value": "on", **_reason(w)},
        missing={"moderator": 404},
    ),
    "moderation/sanctions/<uuid:sanction_id>/": Row(lambda w: f"/moderation/sanctions/{w.sanction.pk}/", staff(200)),
    # The world's sanction is a warning already given: those allowed get the rule's refusal on the
    # page with its error summary (400), "not liftable" and "not a referral awaiting approval".
    "moderation/sanctions/<uuid:sanction_id>/lift/": Row(
        lambda w: f"/moderation/sanctions/{w.sanction.pk}/lift/",
        staff(403, 400),
        "POST",
        _reason,
        missing={"compliance": 404, "admin": 404},
    ),
    "moderation/sanctions/<uuid:sanction_id>/approve/": Row(
        lambda w: f"/moderation/sanctions/{w.sanction.pk}/approve/",
        staff(403, 400),
        "POST",
        lambda w: {"reference": "POL-2024-1"},
        missing={"compliance": 404, "admin": 404},
    ),
    "moderation/appeals/": Row(lambda w: "/moderation/appeals/", staff(403, 200)),
    "moderation/appeals/<uuid:appeal_id>/": Row(lambda w: f"/moderation/appeals/{w.appeal.pk}/", staff(403, 200)),
    "moderation/reports/<uuid:report_id>/presence/": Row(
        lambda w: f"/moderation/reports/{w.report.pk}/presence/", staff(200, user=403), "POST", lambda w: {}
    ),
    "moderation/appeals/<uuid:appeal_id>/attachment/": Row(
        lambda w: f"/moderation/appeals/{w.appeal.pk}/attachment/", staff(403, 200)
    ),
    "moderation/accounts/<int:user_id>/": Row(lambda w: f"/moderation/accounts/{w.owner.pk}/", staff(200)),
    "moderation/accounts/<int:user_id>/flag/": Row(
        lambda w: f"/moderation/accounts/{w.owner.pk}/flag/",
        staff(403, 403, REDIRECT),
        "POST",
        lambda w: {"flag": "trusted_flagger", "value": "on", **_reason(w)},
        missing={"moderator": 404, "compliance": 404},
    ),
    # --- video stories before publication (moderators and up; a story is 404 to others, like a report)
    "moderation/stories/": Row(lambda w: "/moderation/stories/", staff(200)),
    "moderation/stories/<str:story_id>/": Row(lambda w: f"/moderation/stories/{w.story.pk}/", staff(200, user=404)),
    "moderation/stories/<uuid:story_id>/approve/": Row(
        lambda w: f"/moderation/stories/{w.story.pk}/approve/", staff(REDIRECT, user=404), "POST", lambda w: {}
    ),
    "moderation/stories/<uuid:story_id>/reject/": Row(
        lambda w: f"/moderation/stories/{w.story.pk}/reject/",
        staff(REDIRECT, user=404),
        "POST",
        lambda w: {"category": "spam", "explanation": "An advert."},
    ),
    "moderation/stories/<uuid:story_id>/frame/": Row(
        lambda w: f"/moderation/stories/{w.story.pk}/frame/", staff(200, user=404)
    ),
    # --- the audit log (compliance and admin)
    "audit/": Row(lambda w: "/audit/", staff(403, 200)),
    "audit/export.csv": Row(lambda w: "/audit/export.csv", staff(403, 200)),
    # --- the API
    "api/reports": Row(
        lambda w: "/api/reports",
        api(user=201),
        "POST",
        lambda w: {"report_type": "message", "target_id": str(w.fresh_target.public_id), "reason": "Matrix check."},
    ),
    "api/reports/mine": Row(lambda w: "/api/reports/mine", api(user=200)),
    "api/reports/<str:reportId>": Row(lambda w: f"/api/reports/{w.report.pk}", api(user=200, other=404, moderator=404)),
    "api/targets": Row(
        lambda w: "/api/targets",
        api(user=403, platform=201),
        "POST",
        lambda w: {"kind": "message", "external_id": "matrix-1", "title": "A message", "text": "hello"},
    ),
    "api/hashes/check": Row(
        lambda w: "/api/hashes/check", api(user=403, platform=200), "POST", lambda w: {"sha256": "0" * 64}
    ),
    "api/stories": Row(
        lambda w: "/api/stories",
        api(user=403, platform=201),
        "POST",
        lambda w: {"external_id": "matrix-story", "media_url": "https://cdn.example/matrix.mp4"},
    ),
    "api/stories/<str:storyId>": Row(lambda w: f"/api/stories/{w.story.pk}", api(user=403, platform=200)),
    "api/signals": Row(
        lambda w: "/api/signals",
        api(user=403, platform=200),
        "POST",
        lambda w: {
            "signals": [
                {
                    "idempotency_key": "matrix-1",
                    "source": {"name": "matrix", "version": "1"},
                    "target_id": str(w.fresh_target.public_id),
                    "category": "spam",
                    "score": 0.5,
                }
            ]
        },
    ),
    "api/admin/reports": Row(lambda w: "/api/admin/reports", api(user=403, moderator=200)),
    "api/admin/reports/<str:reportId>": Row(
        lambda w: f"/api/admin/reports/{w.report.pk}", api(user=403, moderator=200)
    ),
    "api/admin/reports/<str:reportId>/review": Row(
        lambda w: f"/api/admin/reports/{w.report.pk}/review",
        api(user=403, moderator=200),
        "POST",
        lambda w: {"status": "reviewed", "admin_notes": "matrix"},
    ),
    "api/accounts/<str:accountId>/restrictions": Row(
        lambda w: f"/api/accounts/{w.owner.pk}/restrictions", api(user=403, moderator=200, platform=200)
    ),
    "api/schema": Row(lambda w: "/api/schema", everyone(200)),
    "api/docs": Row(lambda w: "/api/docs", everyone(200)),
}
# Each API route is also served with a trailing slash (config/api_urls.both), with the same rights.
for _route in [route for route in EXPECTED if route.startswith("api/")]:
    _row = EXPECTED[_route]
    EXPECTED[_route + "/"] = Row(
        (lambda url: lambda w: url(w) + "/")(_row.url),
        _row.expect,
        _row.method,
        _row.data,
        _row.check_missing,
        _row.missing,
    )


# --- Django's admin: staff only (the admin role); per model what the role table grants ---------------

NOT_STAFF = {role: ADMIN_LOGIN for role in ROLES if role != "admin"}
# model -> the admin views the admin role may open (its rights: auth.view/add/change_user, audit.view_auditevent)
ADMIN_MODEL_VIEWS = {
    "auth/group": set(),
    "auth/user": {"changelist", "add", "history", "change"},
    "audit/auditevent": {"changelist", "history", "change"},
    "reports/report": set(),
    "reports/target": set(),
    "reports/evidence": set(),
    "enforcement/accountstanding": set(),
    # Detectors and signal policies: the admin role's (moderation/roles.py); a detector is never deleted.
    "signals/detector": {"changelist", "add", "history", "change"},
    "signals/signalpolicy": {"changelist", "add", "history", "change", "delete"},
}
EXPECTED.update(
    {
        "django-admin/": Row(lambda w: "/django-admin/", NOT_STAFF | {"admin": 200}),
        "django-admin/login/": Row(
            lambda w: "/django-admin/login/", {role: 200 for role in ROLES if role != "admin"} | {"admin": REDIRECT}
        ),
        "django-admin/logout/": Row(
            lambda w: "/django-admin/logout/", everyone(REDIRECT), method="POST", data=lambda w: {}
        ),
        "django-admin/password_change/": Row(lambda w: "/django-admin/password_change/", NOT_STAFF | {"admin": 200}),
        "django-admin/password_change/done/": Row(
            lambda w: "/django-admin/password_change/done/", NOT_STAFF | {"admin": 200}
        ),
        "django-admin/autocomplete/": Row(lambda w: "/django-admin/autocomplete/", NOT_STAFF | {"admin": 403}),
        "django-admin/jsi18n/": Row(lambda w: "/django-admin/jsi18n/", NOT_STAFF | {"admin": 200}),
        # Django's "view on site" shortcut (a report's lands on the reporter's page, which decides).
        "django-admin/r/<path:content_type_id>/<path:object_id>/": Row(
            lambda w: f"/django-admin/r/{w.report_content_type}/{w.report.pk}/",
            NOT_STAFF | {"admin": REDIRECT},
            check_missing=False,
        ),
        "django-admin/^(?P<app_label>audit|reports|auth|enforcement|signals)/$": Row(
            lambda w: "/django-admin/reports/", NOT_STAFF | {"admin": 404}
        ),
        "django-admin/(?P<url>.*)$": Row(lambda w: "/django-admin/no-such-page/", NOT_STAFF | {"admin": 404}),
        "django-admin/auth/user/<id>/password/": Row(
            lambda w: f"/django-admin/auth/user/{w.people['other'].pk}/password/",
            NOT_STAFF | {"admin": 200},
            check_missing=False,
        ),
    }
)
for _model, _allowed in ADMIN_MODEL_VIEWS.items():
    _base = f"django-admin/{_model}/"

    def _admin_row(suffix: str, view: str, model: str = _model) -> Row:
        return Row(
            lambda w: f"/django-admin/{model}/" + suffix.replace("<path:object_id>", str(w.admin_objects[model])),
            NOT_STAFF | {"admin": 200 if view in ADMIN_MODEL_VIEWS[model] else 403},
            check_missing=False,
        )

    EXPECTED[_base] = _admin_row("", "changelist")
    EXPECTED[_base + "add/"] = _admin_row("add/", "add")
    for _view in ("history", "delete", "change"):
        EXPECTED[f"{_base}<path:object_id>/{_view}/"] = _admin_row(f"<path:object_id>/{_view}/", _view)
    # The bare object URL redirects to its change page (which then decides).
    EXPECTED[f"{_base}<path:object_id>/"] = Row(
        (lambda model: lambda w: f"/django-admin/{model}/{w.admin_objects[model]}/")(_model),
        NOT_STAFF | {"admin": REDIRECT},
        check_missing=False,
    )


# --- the world the sample URLs point into ------------------------------------------------------------


@dataclass
class World:
    people: dict[str, Any]
    owner: Any
    target: Any
    fresh_target: Any
    report: Any
    report_closed: Any
    report_dismissed: Any
    evidence: Any
    sanction: Any
    notice: Any
    appeal: Any
    appeal_token: str
    complaint_appeal_token: str
    api_token: Any
    report_content_type: int
    admin_objects: dict[str, Any]
    story: Any
    keys: dict[str, str] = field(default_factory=dict)  # role -> Authorization header value
    sessions: dict[str, str] = field(default_factory=dict)  # role -> the session key of that person


@pytest.fixture
def world(user, other_user, moderator, compliance, admin_user) -> World:
    people = {"user": user, "other": other_user, "moderator": moderator, "compliance": compliance, "admin": admin_user}
    owner = UserFactory(username="reported_account")
    decider = UserFactory(username="first_decider", role="moderator")
    target = TargetFactory(owner=owner)
    target.snapshot_file.save("s.png", ContentFile(png_bytes()), save=False)
    target.snapshot_content_type = "image/png"
    target.save()
    report = ReportFactory(reporter=user, target=target, escalated=True, escalation_reason="check")
    evidence = EvidenceFactory(report=report)
    evidence.file.save("e.png", ContentFile(png_bytes()), save=True)
    now = timezone.now()
    closed = dict(reviewed_by=decider, reviewed_at=now, first_reviewed_at=now, closed_at=now)
    report_closed = ReportFactory(
        reporter=user, target=TargetFactory(owner=owner), status=ReportStatus.RESOLVED, **closed
    )
    report_dismissed = ReportFactory(
        reporter=user, target=TargetFactory(owner=owner), status=ReportStatus.DISMISSED, **closed
    )
    sanction = SanctionFactory(account=user, decided_by=decider)  # the user was warned once, too
    notice = NoticeFactory(recipient=user, sanction=sanction, kind="statement_of_reasons")
    appeal = AppealFactory(appellant=user, sanction=sanction, attachment_content_type="image/png")
    appeal.attachment.save("a.png", ContentFile(png_bytes()), save=True)
    token, _key = api_token_create(actor=user, name="to revoke")
    standing, _ = AccountStanding.objects.get_or_create(user=user)
    keys = {role: f"Token {api_token_key(person)}" for role, person in people.items()}
    keys["platform"] = f"Platform {platform_key()}"
    story = submit("matrix-waiting").story
    # The detector the signals row sends as (a catch-all policy; the admin rows open both).
    detector = Detector.objects.create(name="matrix")
    return World(
        people=people,
        owner=owner,
        target=target,
        fresh_target=TargetFactory(owner=owner),
        report=report,
        report_closed=report_closed,
        report_dismissed=report_dismissed,
        evidence=evidence,
        sanction=sanction,
        notice=notice,
        appeal=appeal,
        appeal_token=appeal_token(sanction=sanction),
        complaint_appeal_token=complaint_appeal_token(
            report=ReportFactory(reporter=None, reporter_email="c@example.org", status=ReportStatus.DISMISSED, **closed)
        ),
        api_token=token,
        report_content_type=ContentType.objects.get_for_model(report).pk,
        admin_objects={
            "auth/group": Group.objects.get(name="moderator").pk,
            "auth/user": other_user.pk,
            "audit/auditevent": AuditEvent.objects.order_by("id").first().pk,
            "reports/report": report.pk,
            "reports/target": target.pk,
            "reports/evidence": evidence.pk,
            "enforcement/accountstanding": standing.pk,
            "signals/detector": detector.pk,
            "signals/signalpolicy": SignalPolicy.objects.create(
                detector=detector, floor="0.2", review_threshold="0.6"
            ).pk,
        },
        story=story,
        keys=keys,
    )


def ghost_of(world: World) -> SimpleNamespace:
    """The same world with every object replaced by one that does not exist."""

    def missing(**extra):
        return SimpleNamespace(pk=uuid.uuid4(), public_id=uuid.uuid4(), **extra)

    return SimpleNamespace(
        **{name: getattr(world, name) for name in ("people", "fresh_target", "keys", "admin_objects")},
        owner=SimpleNamespace(pk=2_000_000_000),
        api_token=SimpleNamespace(pk=2_000_000_000),
        appeal_token="not-a-signed-token",
        complaint_appeal_token="not-a-signed-token",
        report_content_type=world.report_content_type,
        **{name: missing() for name in ("target", "report", "report_closed", "report_dismissed", "evidence")},
        **{name: missing() for name in ("sanction", "notice", "appeal", "story")},
    )


# --- calling and judging -----------------------------------------------------------------------------


def call(world: World, role: str, row: Row, url: str) -> tuple[int | str, str]:
    """(the answer as the matrix spells it, a detail for the failure message)."""
    api_call = url.startswith("/api/")
    client = Client()
    headers = {}
    if api_call and role in world.keys:
        headers["HTTP_AUTHORIZATION"] = world.keys[role]
    elif role in PEOPLE:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]  # signed in once per role
    with transaction.atomic():
        try:
            if row.method == "GET":
                response = client.get(url, **headers)
            elif api_call:
                response = client.post(url, json.dumps(row.data(world)), content_type="application/json", **headers)
            else:
                response = client.post(url, row.data(world), **headers)
        except Exception as error:  # a 500: reported as such
            transaction.set_rollback(True)
            return 500, f"{type(error).__name__}: {error}"
        transaction.set_rollback(True)
    status = response.status_code
    if status in (301, 302, 303):
        location = response["Location"]
        if location.startswith("/accounts/login/?next="):
            return LOGIN, location
        if location.startswith("/django-admin/login/?next="):
            return ADMIN_LOGIN, location
        return REDIRECT, location
    return status, response.content[:200].decode(errors="replace") if status >= 400 else ""


def missing_expectation(answer: int | str) -> int | str:
    """With an object that does not exist: whoever got in gets 404; whoever did not, the same refusal."""
    return 404 if answer in (200, 201, REDIRECT) else answer


def test_every_route_has_a_row():
    served = list(routes())
    assert len(served) == len(set(served)), "two routes with the same pattern text"
    unknown = sorted(set(served) - set(EXPECTED))
    assert not unknown, f"routes without a row in the permission matrix (add one to EXPECTED): {unknown}"
    stale = sorted(set(EXPECTED) - set(served))
    assert not stale, f"rows for routes that no longer exist: {stale}"
    for route, row in EXPECTED.items():
        assert set(row.expect) == set(ROLES), route


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(world, role):
    ghost = ghost_of(world)
    wrong = []
    if role in PEOPLE:
        signed_in = Client()
        signed_in.force_login(world.people[role])
        world.sessions[role] = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    for route in routes():
        row = EXPECTED[route]
        url = row.url(world)
        answer, detail = call(world, role, row, url)
        if answer != row.expect[role]:
            wrong.append(f"{row.method} {url}: expected {row.expect[role]}, got {answer} {detail}")
        if not row.check_missing or row.url(ghost) == url:
            continue
        missing_url = row.url(ghost)
        answer, detail = call(world, role, row, missing_url)
        expected = row.missing.get(role, missing_expectation(row.expect[role]))
        if answer != expected:
            wrong.append(f"{row.method} {missing_url} (no such object): expected {expected}, got {answer} {detail}")
    assert not wrong, f"{len(wrong)} answers differ for {role}:\n" + "\n".join(wrong)
