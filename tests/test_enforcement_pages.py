"""The enforcement controls on the pages: decision form, unfounded mark, legal hold, the reporter's
appeal of a dismissal, and who may use each."""

from __future__ import annotations

import pytest
from django.urls import reverse

from moderation.enforcement.models import Appeal, Sanction
from moderation.services import report_review
from reports.models import Report
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db


def test_decision_page_applies_and_shows_errors(client, moderator):
    report = ReportFactory()
    url = reverse("enforcement:decide", args=[report.pk])
    client.force_login(moderator)
    page = client.get(url)
    assert page.status_code == 200 and "Proposed" in page.content.decode()
    bad = client.post(url, {"actions": ["warning"], "ground_type": "terms", "ground": "", "facts": ""})
    assert bad.status_code == 400 and not Sanction.objects.exists()
    ok = client.post(
        url, {"actions": ["warning"], "ground_type": "terms", "ground": "ToS §4", "facts": "Insults.", "duration": "24"}
    )
    assert ok.status_code == 302 and Sanction.objects.get().kind == "warning"
    # A moderator's form offers no termination; posting one anyway is refused.
    assert "termination" not in client.get(reverse("enforcement:decide", args=[ReportFactory().pk])).content.decode()


def test_decision_page_is_for_staff_only(client, user):
    url = reverse("enforcement:decide", args=[ReportFactory().pk])
    assert client.get(url).status_code == 302
    client.force_login(user)
    assert client.get(url).status_code == 403


def test_mark_unfounded_and_legal_hold_buttons(client, moderator, compliance):
    report = ReportFactory()
    report_review(actor=moderator, report_id=report.pk, status="dismissed")
    client.force_login(moderator)
    assert "Mark manifestly unfounded" in client.get(reverse("moderation:report", args=[report.pk])).content.decode()
    client.post(reverse("enforcement:mark_unfounded", args=[report.pk]))
    assert Report.objects.get(pk=report.pk).manifestly_unfounded
    # Moderators cannot set holds; compliance can.
    client.post(reverse("enforcement:report_hold", args=[report.pk]), {"value": "on", "reason": "Police asked"})
    assert not Report.objects.get(pk=report.pk).legal_hold
    client.force_login(compliance)
    client.post(reverse("enforcement:report_hold", args=[report.pk]), {"value": "on", "reason": "Police asked"})
    assert Report.objects.get(pk=report.pk).legal_hold


def test_reporter_appeals_a_dismissal_from_their_report_page(client, moderator, user, other_user):
    report = ReportFactory(reporter=user)
    report_review(actor=moderator, report_id=report.pk, status="dismissed")
    client.force_login(user)
    page = client.get(reverse("reports:detail", args=[report.pk])).content.decode()
    assert "Disagree with this decision?" in page
    client.post(reverse("enforcement:report_appeal", args=[report.pk]), {"text": "Look at the second message."})
    assert Appeal.objects.get().report == report
    assert "You appealed on" in client.get(reverse("reports:detail", args=[report.pk])).content.decode()
    client.force_login(other_user)  # someone else's report: 404, as if it did not exist
    assert client.post(reverse("enforcement:report_appeal", args=[report.pk]), {"text": "x"}).status_code == 404


def test_the_account_page_shows_restrictions_with_their_end(client, moderator):
    from datetime import timedelta

    from django.utils import timezone

    from moderation.enforcement import wording
    from tests.test_enforcement import decide

    report = ReportFactory()
    ends = timezone.now() + timedelta(hours=24)
    decide(moderator, report, "timeout", ends_at=ends)
    client.force_login(report.target.owner)
    page = client.get(reverse("reports:account")).content.decode()
    assert f"Your account is timed out until {wording.long_date(ends)}" in page
    assert "Notices about your account (1)" in page


def _account_history_world(moderator, compliance, *, sanctions: int):
    """An account with `sanctions` warnings (each with its notice), an appeal and a legal hold."""
    from moderation.enforcement import services as enforcement
    from tests.test_enforcement import decide

    owner = ReportFactory().target.owner
    for _ in range(sanctions):
        decide(moderator, ReportFactory(target__owner=owner), "warning")
    first = Sanction.objects.filter(account=owner).earliest("decided_at")
    enforcement.appeal_file(actor=owner, sanction_id=first.pk, text="It was a joke between friends.")
    enforcement.legal_hold_set(actor=compliance, account=owner, hold=True, reason="The police asked us to keep it.")
    return owner, first


def test_the_account_page_shows_compliance_the_accounts_history_across_its_sanctions_and_appeals(
    client, moderator, compliance
):
    owner, first = _account_history_world(moderator, compliance, sanctions=2)
    ReportFactory()  # another account's events stay out
    decide_other = ReportFactory()
    from tests.test_enforcement import decide

    decide(moderator, decide_other, "warning")
    url = reverse("enforcement:account", args=[owner.pk])

    client.force_login(compliance)
    page = client.get(url).content.decode()
    history = page[page.index('id="history"') :]
    # Newest first: the hold, the appeal, then the two warnings with their notices.
    assert history.index("legal hold") < history.index("An appeal was filed")
    assert history.index("An appeal was filed") < history.index("An enforcement action was taken")
    assert history.count("An enforcement action was taken") == 2 and history.count("A notice was sent") == 2
    assert 'Legal hold: <span class="before">no</span> → <strong>yes</strong>' in history
    assert "The police asked us to keep it." in history
    assert 'Notice: <span class="before">—</span> → <strong>Statement of reasons</strong>' in history
    assert reverse("enforcement:sanction", args=[first.pk]) in history
    appeal = Appeal.objects.get()
    assert reverse("enforcement:appeal", args=[appeal.pk]) in history

    # Moderators work the account page too, but the audit trail is for compliance and admins.
    client.force_login(moderator)
    assert 'id="history"' not in client.get(url).content.decode()


def test_the_account_history_costs_the_same_queries_for_one_sanction_or_eight(
    client, moderator, compliance, django_assert_max_num_queries
):
    few, _ = _account_history_world(moderator, compliance, sanctions=1)
    many, _ = _account_history_world(moderator, compliance, sanctions=8)
    client.force_login(compliance)
    with django_assert_max_num_queries(25) as few_queries:
        client.get(reverse("enforcement:account", args=[few.pk]))
    with django_assert_max_num_queries(len(few_queries)):
        page = client.get(reverse("enforcement:account", args=[many.pk])).content.decode()
    assert page.count("An enforcement action was taken") == 8
