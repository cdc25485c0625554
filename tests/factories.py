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
from reports.models import (
    Evidence,
    HeldEvidence,
    InfoRequest,
    Profile,
    Report,
    ReportStatus,
    Target,
    TargetKind,
)

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


class ProfileFactory(factory.django.DjangoModelFactory):
    """An account's own choices: its language."""

    class Meta:
        model = Profile
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)
    language = "es"


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


class HeldEvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HeldEvidence

    owner = factory.SubFactory(UserFactory)
    file = factory.django.FileField(filename="held.png", data=b"\x89PNG")
    original_name = "screenshot.png"
    content_type = "image/png"
    size = 4
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


# --- Appended by the foundation test suite: factories for the remaining models ------------------
# (imported here so that appending never touches the module's header)

import hashlib  # noqa: E402

from django.db import transaction  # noqa: E402

from audit import services as audit_services  # noqa: E402
from audit.models import AuditEvent  # noqa: E402
from moderation.enforcement.actions import ActionKind  # noqa: E402
from moderation.enforcement.models import (  # noqa: E402
    AccountStanding,
    Appeal,
    GroundType,
    Notice,
    NoticeKind,
    OutboxEvent,
    Sanction,
    SanctionStatus,
)
from reports.models import ApiToken, OutboxMail, PlatformKey  # noqa: E402


class AccountStandingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountStanding
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)


class SanctionFactory(factory.django.DjangoModelFactory):
    """A one-off warning on the owner of a reported message (built directly, not through enforcement)."""

    class Meta:
        model = Sanction
        skip_postgeneration_save = True

    kind = ActionKind.WARNING
    account = factory.SubFactory(UserFactory)
    status = SanctionStatus.DONE
    ground_type = GroundType.TERMS
    ground = "Terms of service §4.2 (harassment)"
    facts = "Insults in #lobby, confirmed in the room log."
    starts_at = factory.LazyFunction(timezone.now)
    decided_by = factory.SubFactory(UserFactory, role="moderator")
    decided_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def reports(self, create, extracted, **kwargs):
        if create and extracted:
            self.reports.set(extracted)


class NoticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notice

    kind = NoticeKind.REPORT_OUTCOME
    recipient = factory.SubFactory(UserFactory)
    email = factory.LazyAttribute(lambda o: o.recipient.email if o.recipient else "")
    subject = "The outcome of your report"
    body = "We reviewed your report and took action."


class AppealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appeal

    appellant = factory.SubFactory(UserFactory)
    sanction = factory.SubFactory(SanctionFactory, account=factory.SelfAttribute("..appellant"))
    text = "I think this was a misunderstanding; please look again."
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class OutboxEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxEvent

    event_type = "sanction.applied"
    payload = factory.LazyFunction(lambda: {"kind": "warning"})
    next_attempt_at = factory.LazyFunction(timezone.now)


class OutboxMailFactory(factory.django.DjangoModelFactory):
    """A confirmation in the mail outbox, due now (reports/outbox.py)."""

    class Meta:
        model = OutboxMail

    kind = "report_received"
    recipients = factory.LazyFunction(lambda: ["reporter@example.test"])
    subject = "We received your report 1a2b3c4d"
    body = "Thank you. We received your report."
    next_attempt_at = factory.LazyFunction(timezone.now)


class AuditEventFactory(factory.Factory):
    """Audit events can only be appended through audit.record (hash chain, registered types)."""

    class Meta:
        model = AuditEvent

    actor = audit_services.SYSTEM
    event_type = "report.created"
    object_type = "report"
    object_id = factory.Sequence(lambda n: f"r{n}")

    @classmethod
    def _create(cls, model_class, **kwargs):
        with transaction.atomic():
            return audit_services.record(**kwargs)


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A token row as stored (only the key's hash); tests of the API create keys through the services."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = "moderation script"
    prefix = factory.Sequence(lambda n: f"rdt_{n:06d}")
    key_hash = factory.Sequence(lambda n: hashlib.sha256(f"token-{n}".encode()).hexdigest())


class PlatformKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlatformKey

    name = factory.Sequence(lambda n: f"platform-{n}")
    prefix = factory.Sequence(lambda n: f"rdp_{n:06d}")
    key_hash = factory.Sequence(lambda n: hashlib.sha256(f"platform-{n}".encode()).hexdigest())


# --- Appended by the API suite: credentials (keys exist only when created, so through the services) --


def api_token_key(user, name: str = "test token") -> str:
    """A new personal API token for `user`; returns the key for "Authorization: Token <key>"."""
    from reports.services import api_token_create

    return api_token_create(actor=user, name=name)[1]


def platform_key(name: str = "chat-backend") -> str:
    """A new platform key; returns the key for "Authorization: Platform <key>"."""
    from reports.services import platform_key_create

    return platform_key_create(actor=audit_services.SYSTEM, name=name)[1]


# --- the dashboard's rollups (moderation/rollups.py keeps them; these are for the model checks) ------------

from django.conf import settings  # noqa: E402

from moderation.models import (  # noqa: E402
    ModeratorDayCount,
    ReportDayCount,
    ReportDurationsThrough,
    ReportRollupChange,
    RollupState,
    SanctionDayCount,
    SanctionRollupChange,
)


class ReportDayCountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportDayCount

    day = factory.LazyFunction(timezone.localdate)
    category = Category.HARASSMENT
    severity = factory.LazyAttribute(lambda o: severity_for(o.category))
    status = ReportStatus.PENDING
    reports = 1


class ReportDurationsThroughFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportDurationsThrough

    day = factory.LazyFunction(timezone.localdate)
    severity = factory.LazyAttribute(lambda o: severity_for(Category.HARASSMENT))
    clock = "decision"
    first_bucket = 500
    counts = factory.LazyFunction(lambda: [1, 0, 2])


class ModeratorDayCountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModeratorDayCount

    day = factory.LazyFunction(timezone.localdate)
    moderator_id = factory.LazyFunction(lambda: UserFactory(role="moderator").pk)
    status = ReportStatus.RESOLVED
    reports = 1


class ReportRollupChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportRollupChange

    recorded_at = factory.LazyFunction(timezone.now)
    sign = 1
    created_at = factory.LazyFunction(timezone.now)
    category = Category.HARASSMENT
    severity = factory.LazyAttribute(lambda o: severity_for(o.category))
    status = ReportStatus.PENDING
    due_at = factory.LazyAttribute(lambda o: deadline_for(category=o.category, received_at=o.created_at))


class SanctionDayCountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SanctionDayCount

    day = factory.LazyFunction(timezone.localdate)
    kind = ActionKind.WARNING
    sanctions = 1


class SanctionRollupChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SanctionRollupChange

    recorded_at = factory.LazyFunction(timezone.now)
    sign = 1
    decided_at = factory.LazyFunction(timezone.now)
    kind = ActionKind.WARNING


class RollupStateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RollupState
        django_get_or_create = ("id",)  # one row; a test database starts with it (built, empty)

    id = 1
    time_zone = factory.LazyFunction(lambda: settings.TIME_ZONE)
    built_at = factory.LazyFunction(timezone.now)
    folded_at = factory.LazyFunction(timezone.now)
