"""What enforcement answers the reports app (reports/hooks.py), registered in apps.py when Django
starts. The reports app asks; it never imports enforcement, so the answers are the plain values that
reports/hooks.py defines."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef
from django.db.models.functions import Now

from moderation.enforcement import wording
from moderation.enforcement.models import AccountStanding, Appeal, Notice
from moderation.enforcement.selectors import my_restrictions, sign_in_blocked
from reports.hooks import AccountNotices, ReportAppeal, ReporterStanding, Restriction
from reports.models import Report

# account.standing: the reverse one-to-one from the account to its AccountStanding row.
_STANDING = AccountStanding._meta.get_field("user").remote_field


class ReportsHooks:
    account_relations = ("standing",)

    def sign_in_blocked(self, account: OuterRef, *, at: datetime | Now | None = None) -> Exists:
        return sign_in_blocked(account, at=at)

    def reporter_standing(self, account: AbstractBaseUser) -> ReporterStanding:
        """Joined already when the API token loaded the account this request, else read now (never
        from an older cache on a long-lived account object). No row: the defaults."""
        if _STANDING.is_cached(account):
            standing = _STANDING.get_cached_value(account)
        else:
            standing = AccountStanding.objects.filter(user=account).first()
        if standing is None:
            return ReporterStanding()
        return ReporterStanding(
            trusted_flagger=standing.trusted_flagger, reports_paused_until=standing.reports_paused_until
        )

    def account_notices(self, account: AbstractBaseUser) -> AccountNotices:
        return AccountNotices(
            restrictions=[
                Restriction(label=wording.what_happened(sanction, exact=True), ends_at=sanction.ends_at)
                for sanction in my_restrictions(user=account)
            ],
            notice_count=Notice.objects.filter(recipient=account).count(),
        )

    def report_appeal(self, report: Report) -> ReportAppeal | None:
        appeal = Appeal.objects.filter(report=report).first()
        if appeal is None:
            return None
        return ReportAppeal(
            status=appeal.status,
            status_label=appeal.get_status_display(),
            is_open=appeal.is_open,
            created_at=appeal.created_at,
            due_at=appeal.due_at,
            decision_reason=appeal.decision_reason,
        )
