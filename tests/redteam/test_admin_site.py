"""Django's admin cannot be used to escape the record.

Before: a user with the admin role opened /django-admin/auth/user/<id>/change/, ticked "Superuser
status" and saved (302); as a superuser it then edited a target's snapshot text and owner, deleted a
dismissed report with its evidence and an account's legal hold: zero audit events.

The walk below visits every URL the admin site serves (each model admin's changelist with each
action, add, change, delete, history and its own extra pages, and the site's own pages), GETs it and
POSTs a write to it, as the admin role and as a superuser: each write is refused (nothing in the
database changes) or recorded (an audit event for what changed).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver

from audit import services as audit
from audit.models import AuditEvent
from moderation.enforcement.models import AccountStanding
from moderation.roles import ROLE_PERMISSIONS
from moderation.signals.models import Detector, SignalPolicy
from reports.models import Evidence, Report, ReportStatus, Target
from tests.conftest import png_bytes
from tests.factories import PASSWORD, EvidenceFactory, ReportFactory, TargetFactory, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()
NEW_PASSWORD = "An0ther-long-passphrase"
# Rows that are not evidence, workflow or accounts: the admin's own log, sessions, sign-in attempts.
NOT_STATE = {"admin.logentry", "sessions.session", "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog"}


def database_state() -> dict[str, list[dict[str, Any]]]:
    state = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in NOT_STATE or model is AuditEvent:
            continue
        state[label] = list(model._default_manager.order_by("pk").values())
        for field in model._meta.many_to_many:
            state[f"{label}.{field.name}"] = list(field.remote_field.through._default_manager.order_by("pk").values())
    return state


@pytest.fixture
def world():
    victim = UserFactory(username="rosa")
    root = UserFactory(username="root_account")
    root.is_superuser = root.is_staff = True
    root.save()
    target = TargetFactory(owner=victim, snapshot_text="what was said")
    report = ReportFactory(target=target, status=ReportStatus.DISMISSED)
    evidence = EvidenceFactory(report=report)
    evidence.file.save("e.png", ContentFile(png_bytes()), save=True)
    standing = AccountStanding.objects.create(user=victim, legal_hold=True)
    detector = Detector.objects.create(name="nudity-net")
    policy = SignalPolicy.objects.create(detector=detector, floor="0.2", review_threshold="0.6")
    from django.db import transaction

    with transaction.atomic():
        audit.record(actor=audit.SYSTEM, event_type="report.created", object_type="report", object_id=report.pk)
    objects = {
        User: victim,
        Group: Group.objects.get(name="moderator"),
        Target: target,
        Report: report,
        Evidence: evidence,
        AccountStanding: standing,
        AuditEvent: AuditEvent.objects.get(),
        Detector: detector,
        SignalPolicy: policy,
    }
    return {"victim": victim, "root": root, "objects": objects}


def _pattern_text(pattern) -> str:
    return str(pattern.pattern)


def site_urls(objects: dict) -> list[tuple[str, str]]:
    """(url, kind) for every pattern of the admin site: its own pages and every model admin's."""
    found: list[tuple[str, str]] = []
    for entry in admin.site.get_urls():
        text = _pattern_text(entry)
        if isinstance(entry, URLResolver):
            continue  # the model admins, walked below from the registry
        assert isinstance(entry, URLPattern)
        found.append((text, f"site:{entry.name}"))
    for model, model_admin in admin.site._registry.items():
        assert model in objects, f"{model._meta.label} is registered in the admin: give the walk an object of it"
        base = f"{model._meta.app_label}/{model._meta.model_name}/"
        for entry in model_admin.get_urls():
            found.append((base + _pattern_text(entry), f"{model._meta.label_lower}:{entry.name or 'redirect'}"))
    return found


def concrete(pattern: str, kind: str, objects: dict) -> str | None:
    if pattern.startswith("^"):
        return None  # the app index and the catch-all (regular expressions): nothing to write there
    if kind == "site:view_on_site":
        report = objects[Report]
        return f"/django-admin/r/{ContentType.objects.get_for_model(report).pk}/{report.pk}/"
    model_label = kind.split(":")[0]
    pk = objects[apps.get_model(model_label)].pk if "." in model_label else ""
    return "/django-admin/" + pattern.replace("<path:object_id>", str(pk)).replace("<id>", str(pk))


def form_data(response) -> dict[str, Any]:
    """The admin form's current values, as a browser would post them back, plus everything an
    attacker would tick: superuser, staff, every group and permission, the admin role."""
    form = response.context["adminform"].form
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or name.startswith("password"):
            continue
        data[name] = [str(item) for item in value] if isinstance(value, list | tuple) else value
        if isinstance(value, str) and name not in {"role"} and "email" not in name:
            data[name] = value + "x"
    data.update(
        {
            "is_superuser": "on",
            "is_staff": "on",
            "groups": [str(pk) for pk in Group.objects.values_list("pk", flat=True)],
            "user_permissions": [str(pk) for pk in Permission.objects.values_list("pk", flat=True)],
            "role": "admin",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "usable_password": "true",
            "snapshot_text": "rewritten",
            "legal_hold": "",
        }
    )
    if "username" in form.fields and not form.instance.pk:
        data["username"] = "newcomer"
    return data


def writes_for(client, url: str, kind: str, objects: dict) -> list[dict[str, Any]]:
    if kind.endswith("_changelist"):
        model_admin = admin.site._registry[apps.get_model(kind.split(":")[0])]
        pk = objects[model_admin.model].pk
        actions = {"delete_selected", *(model_admin.actions or ()), *admin.site._actions}
        return [{"action": name, "_selected_action": [str(pk)], "index": "0", "post": "yes"} for name in actions]
    if kind.endswith(("_add", "_change")):
        page = client.get(url)
        return [form_data(page)] if page.status_code == 200 and "adminform" in (page.context or {}) else [{}]
    if kind.endswith("_delete"):
        return [{"post": "yes"}]
    if kind.endswith("_password_change"):
        return [{"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}]
    if kind == "site:password_change":
        return [{"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}]
    return [{}]


@pytest.mark.parametrize("who", ["admin role", "superuser"])
def test_every_admin_url_refuses_a_write_or_records_it(client, world, who):
    actor = UserFactory(username="staff_admin", role="admin") if who == "admin role" else world["root"]
    objects = world["objects"]
    walked, recorded = set(), set()
    for pattern, kind in site_urls(objects):
        url = concrete(pattern, kind, objects)
        if url is None:
            continue
        for data in writes_for(client_as(client, actor), url, kind, objects):
            client_as(client, actor)  # (a POST to the site's logout ends the session)
            before, events_before = database_state(), AuditEvent.objects.count()
            client.get(url)
            client.post(url, data)
            after = database_state()
            changed = sorted(label for label in after if after[label] != before[label])
            new_events = AuditEvent.objects.count() - events_before
            assert not changed or new_events, f"{who}: POST {url} {data.get('action', '')} changed {changed} unrecorded"
            assert not User.objects.filter(is_superuser=True).exclude(pk=world["root"].pk).exists(), url
            recorded.update(changed)
        walked.add(pattern)
    assert walked == {pattern for pattern, _ in site_urls(objects) if not pattern.startswith("^")}
    # Accounts are what remains changeable (add, change, passwords), and the detectors and their
    # policies (moderation/signals/admin.py), each change with its event.
    assert recorded == {"auth.user", "auth.user.groups", "signals.detector", "signals.signalpolicy"}
    # What the attacks of the issue did: none of it happened.
    target, report = objects[Target], objects[Report]
    target.refresh_from_db()
    assert target.snapshot_text == "what was said" and target.owner == world["victim"]
    assert Report.objects.filter(pk=report.pk).exists() and Evidence.objects.filter(pk=objects[Evidence].pk).exists()
    assert AccountStanding.objects.get(user=world["victim"]).legal_hold is True
    granted = set(ROLE_PERMISSIONS["admin"])
    for account in User.objects.exclude(pk=world["root"].pk):
        assert not account.is_superuser and not account.user_permissions.exists()
        through_roles = Permission.objects.filter(group__user=account).select_related("content_type")
        assert {f"{p.content_type.app_label}.{p.codename}" for p in through_roles} <= granted


def client_as(client, actor):
    client.force_login(actor)
    return client


def test_the_admin_role_cannot_make_anyone_superuser_and_sees_no_such_box(client, world):
    """The issue's first step, replayed exactly."""
    admin_role = UserFactory(username="staff_admin", role="admin")
    client.force_login(admin_role)
    url = f"/django-admin/auth/user/{world['victim'].pk}/change/"
    page = client.get(url).content.decode()
    for widget in ("is_superuser", "user_permissions", "groups", "is_staff"):
        assert f'name="{widget}"' not in page
    assert 'name="role"' in page
    data = form_data(client.get(url)) | {"username": "rosa"}
    response = client.post(url, data)
    assert response.status_code == 302
    victim = User.objects.get(pk=world["victim"].pk)
    assert not victim.is_superuser and not victim.user_permissions.exists()
    assert set(victim.groups.values_list("name", flat=True)) == {"admin"}  # a role from the table, recorded:
    [event] = AuditEvent.objects.filter(event_type="account.changed")
    assert event.actor == admin_role and event.after["role"] == "admin" and event.before["role"] is None
    # Its own account, the same.
    own = f"/django-admin/auth/user/{admin_role.pk}/change/"
    client.post(own, form_data(client.get(own)) | {"username": "staff_admin"})
    admin_role.refresh_from_db()
    assert not admin_role.is_superuser


def test_an_admin_cannot_take_over_a_superuser_account(client, world):
    client.force_login(UserFactory(username="staff_admin", role="admin"))
    root = world["root"]
    change, password = f"/django-admin/auth/user/{root.pk}/change/", f"/django-admin/auth/user/{root.pk}/password/"
    assert 'name="username"' not in client.get(change).content.decode()  # shown, read-only
    assert client.post(change, {"username": "root_account", "role": "", "is_active": ""}).status_code == 403
    assert client.get(password).status_code == 403
    assert client.post(password, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 403
    root.refresh_from_db()
    assert root.check_password(PASSWORD)


def test_a_password_set_in_the_admin_is_recorded_without_the_password(client, world):
    admin_role = UserFactory(username="staff_admin", role="admin")
    client.force_login(admin_role)
    victim = world["victim"]
    response = client.post(
        f"/django-admin/auth/user/{victim.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    victim.refresh_from_db()
    assert victim.check_password(NEW_PASSWORD)
    [event] = AuditEvent.objects.filter(event_type="account.password_set")
    assert event.actor == admin_role and event.data == {"usable": True}
    assert NEW_PASSWORD not in str(event.data) + str(event.after) + str(event.before)


def test_hostile_usernames_are_refused_in_the_admin_too(client, world):
    client.force_login(UserFactory(username="staff_admin", role="admin"))
    for hostile in ('"><img src=x onerror=alert(1)>', "Rosa"):  # markup; rosa's name in other letter case
        page = client.get("/django-admin/auth/user/add/")
        response = client.post("/django-admin/auth/user/add/", form_data(page) | {"username": hostile})
        assert response.status_code == 200 and re.search("errorlist", response.content.decode())
    assert not User.objects.filter(username__in=['"><img src=x onerror=alert(1)>', "Rosa"]).exists()
    assert not AuditEvent.objects.filter(event_type="account.created").exists()
