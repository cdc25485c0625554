"""factory-boy factories for every model. Workflow objects (reports, notes) are built directly for
speed; tests of the workflows themselves go through the services."""

from __future__ import annotations

import uuid
from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from moderation.models import ReportNote
from reports.categories import Category, deadline_for, severity_for
from reports.models import Evidence, InfoRequest, Report, ReportStatus, Target, TargetKind

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        """UserFactory(role="moderator"|"compliance"|"admin") puts the user in that role's group."""
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))
            if extracted == "admin":
                self.is_staff = True
        if create:
            self.save()


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    kind = TargetKind.MESSAGE
    external_id = factory.Sequence(lambda n: f"ext-{n}")
    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Message {n} in #lobby")
    snapshot_text = "you are pathetic, log off"
    metadata = factory.LazyFunction(lambda: {"room": "lobby"})


class ReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Report

    id = factory.LazyFunction(uuid.uuid4)
    target = factory.SubFactory(TargetFactory)
    report_type = factory.LazyAttribute(lambda o: o.target.kind)
    reporter = factory.SubFactory(UserFactory)
    category = Category.HARASSMENT
    severity = factory.LazyAttribute(lambda o: severity_for(o.category))
    reason = "They keep insulting me in the lobby every evening."
    status = ReportStatus.PENDING
    due_at = factory.LazyAttribute(lambda o: deadline_for(category=o.category, received_at=timezone.now()))


class EvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evidence

    report = factory.SubFactory(ReportFactory)
    original_name = "screenshot.png"
    content_type = "image/png"
    size = 1234
    sha256 = "0" * 64


class InfoRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InfoRequest

    report = factory.SubFactory(ReportFactory)
    question = "When exactly did this happen?"
    asked_by = factory.SubFactory(UserFactory, role="moderator")


class ReportNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportNote

    report = factory.SubFactory(ReportFactory)
    author = factory.SubFactory(UserFactory, role="moderator")
    body = "Checked the room log."


def overdue(**kwargs) -> Report:
    """A report whose deadline has passed."""
    return ReportFactory(due_at=timezone.now() - timedelta(hours=1), **kwargs)
