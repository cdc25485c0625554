"""Every event type the audit log accepts, in one place. `record()` refuses any other name.

Names are "<object>.<verb>". The platform's contract asks that report filing be findable as
`report_created` or `report.created`; it is `report.created`.
"""

EVENT_TYPES: dict[str, str] = {
    # reports app
    "target.registered": "A target was registered or its snapshot updated",
    "target.state_changed": "A target was removed, quarantined or restored",
    "report.created": "A report was filed",
    "evidence.added": "An evidence file was attached to a report",
    "evidence.purged": "Evidence past retention was deleted",
    "report.info_answered": "The reporter answered a request for more information",
    "report.target_linked": "A complaint without an account was linked to the content or account it is about",
    # moderation app
    "report.reviewed": "A report's status was changed by a moderator",
    "report.reopened": "A closed report was reopened",
    "report.assigned": "A report was assigned or unassigned",
    "report.escalated": "A report was escalated to compliance review",
    "report.deescalated": "A report's escalation was cleared",
    "report.note_added": "An internal note was added to a report",
    "report.info_requested": "The reporter was asked for more information",
    "report.sla_breached": "A report passed its deadline (or half of it, when critical)",
    "report.legal_hold_changed": "A legal hold was set or lifted",
    "sanction.applied": "An enforcement action was taken",
    "sanction.lifted": "A sanction was lifted or reversed early",
    "sanction.expired": "A temporary sanction reached its end",
    "referral.approved": "A second compliance officer approved a referral to authorities",
    "notice.sent": "A notice was sent to a user",
    "notice.read": "The recipient opened a notice for the first time",
    "appeal.filed": "An appeal was filed",
    "appeal.decided": "An appeal was decided",
    "account.language_set": "A person chose the language of their pages and mail",
    "account.flag_changed": "An account was marked or unmarked (trusted flagger, misuse, legal hold)",
    # accounts and staff
    "staff.created": "A staff account was created or given a role",
    "account.created": "An account was created by staff in the admin",
    "account.changed": "An account's name, email, active flag or role was changed by staff",
    "account.password_set": "An account's password was set or removed by staff or on a host (changepassword)",
    "account.superuser_created": "A superuser was created on a host (manage.py createsuperuser)",
    "api_token.created": "A personal API token was created",
    "api_token.revoked": "A personal API token was revoked",
    "platform_key.created": "A platform key was created",
    "webhook.delivered": "An outbox event was delivered to the platform",
    # the hash bank (moderation.hashbank)
    "hashbank.entry_added": "Confirmed media was added to the hash bank (its hashes, never the file)",
    "hashbank.list_imported": "A hash list was imported into the hash bank",
    "hashbank.entry_retired": "A hash bank entry was retired and stopped matching",
    "hashbank.matched": "Media checked against the hash bank matched an entry",
    # pre-publication review of video stories (moderation.stories)
    "story.submitted": "The platform submitted a video story for review before publication",
    "story.approved": "A video story was approved for publication",
    "story.rejected": "A video story was rejected before publication (by a person, or automatically)",
    # machine signals (moderation.signals)
    "signal.received": "A machine signal from the platform was stored (kept, or filed into an automated report)",
    "report.signal_merged": "A signal changed the open automated report it joined, or a hash bank match joined it",
    "signal_policy.changed": "A detector's policy (floor, review and action thresholds) was set, changed or deleted",
    "detector.changed": "A detector was registered, changed, activated or deactivated",
}


def is_registered(event_type: str) -> bool:
    return event_type in EVENT_TYPES
