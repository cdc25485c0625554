"""Every event type the audit log accepts, in one place. `record()` refuses any other name.

Names are "<object>.<verb>". The platform's contract asks that report filing be findable as
`report_created` or `report.created`; it is `report.created`.
"""

from django.utils.translation import gettext_lazy as _

EVENT_TYPES: dict[str, str] = {
    # reports app
    "target.registered": _("A target was registered or its snapshot updated"),
    "target.state_changed": _("A target was removed, quarantined or restored"),
    "report.created": _("A report was filed"),
    "evidence.added": _("An evidence file was attached to a report"),
    "evidence.purged": _("Evidence past retention was deleted"),
    "report.info_answered": _("The reporter answered a request for more information"),
    "report.target_linked": _("A complaint without an account was linked to the content or account it is about"),
    # moderation app
    "report.reviewed": _("A report's status was changed by a moderator"),
    "report.reopened": _("A closed report was reopened"),
    "report.assigned": _("A report was assigned or unassigned"),
    "report.escalated": _("A report was escalated to compliance review"),
    "report.deescalated": _("A report's escalation was cleared"),
    "report.note_added": _("An internal note was added to a report"),
    "report.info_requested": _("The reporter was asked for more information"),
    "report.sla_breached": _("A report passed its deadline (or half of it, when critical)"),
    "report.legal_hold_changed": _("A legal hold was set or lifted"),
    "sanction.applied": _("An enforcement action was taken"),
    "sanction.lifted": _("A sanction was lifted or reversed early"),
    "sanction.expired": _("A temporary sanction reached its end"),
    "referral.approved": _("A second compliance officer approved a referral to authorities"),
    "notice.sent": _("A notice was sent to a user"),
    "notice.read": _("The recipient opened a notice for the first time"),
    "appeal.filed": _("An appeal was filed"),
    "appeal.decided": _("An appeal was decided"),
    "account.language_set": _("A person chose the language of their pages and mail"),
    "account.flag_changed": _("An account was marked or unmarked (trusted flagger, misuse, legal hold)"),
    # accounts and staff
    "staff.created": _("A staff account was created or given a role"),
    "account.created": _("An account was created by staff in the admin"),
    "account.changed": _("An account's name, email, active flag or role was changed by staff"),
    "account.password_set": _("An account's password was set or removed by staff or on a host (changepassword)"),
    "account.superuser_created": _("A superuser was created on a host (manage.py createsuperuser)"),
    "host.shell_opened": _("A Python or database shell was opened on a host (manage.py shell or dbshell)"),
    "audit.foreign_event": _(
        "An event without the app's origin tag was sealed into the chain: inserted around the app (audit_verify)"
    ),
    "audit.reconciled": _(
        "Reports, sanctions, appeals, stories and accounts' rights were checked against the audit log (audit_reconcile)"
    ),
    "api_token.created": _("A personal API token was created"),
    "api_token.revoked": _("A personal API token was revoked"),
    "platform_key.created": _("A platform key was created"),
    "webhook.delivered": _("An outbox event was delivered to the platform"),
    # the hash bank (moderation.hashbank)
    "hashbank.entry_added": _("Confirmed media was added to the hash bank (its hashes, never the file)"),
    "hashbank.list_imported": _("A hash list was imported into the hash bank"),
    "hashbank.entry_retired": _("A hash bank entry was retired and stopped matching"),
    "hashbank.matched": _("Media checked against the hash bank matched an entry"),
    # pre-publication review of video stories (moderation.stories)
    "story.submitted": _("The platform submitted a video story for review before publication"),
    "story.approved": _("A video story was approved for publication"),
    "story.rejected": _("A video story was rejected before publication (by a person, or automatically)"),
    # machine signals (moderation.signals)
    "signal.received": _("A machine signal from the platform was stored (kept, or filed into an automated report)"),
    "report.signal_merged": _("A signal changed the open automated report it joined, or a hash bank match joined it"),
    "signal_policy.changed": _("A detector's policy (floor, review and action thresholds) was set, changed or deleted"),
    "detector.changed": _("A detector was registered, changed, activated or deactivated"),
}


def is_registered(event_type: str) -> bool:
    return event_type in EVENT_TYPES
