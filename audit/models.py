from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events cannot be updated")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("audit events cannot be deleted")

    def for_object(self, object_type: str, object_id: object) -> AuditEventQuerySet:
        return self.filter(object_type=object_type, object_id=str(object_id))


class AuditEvent(models.Model):
    """One state change. Written only by `audit.services.record`, never changed afterwards.

    `hash` is an HMAC, with a key the database never holds (AUDIT_SIGNING_KEY), over every field below
    and `prev_hash` (the hash of the event before it in the chain), so an edit made behind the
    application's back (trigger disabled, raw SQL, hashes recomputed) breaks the chain, and signed
    checkpoints kept outside the database catch events cut off its end; `manage.py audit_verify`
    names the first event or checkpoint that no longer matches.

    The event is written in its change's transaction; it is linked into the chain just after commit
    by `audit.services.seal_pending`, which fills `seq`, `prev_hash` and `hash` once, in commit order.
    Linking inside the transaction would serialise every write of the system on one lock held
    until the commit's disk flush. The database triggers allow exactly that one fill and nothing else.
    """

    created_at = models.DateTimeField(db_index=True)
    event_type = models.CharField(max_length=64)
    # PROTECT: an account that acted can be deactivated but never deleted from under its history.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150, help_text="Username at the time, or the system actor's name")
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    correlation_id = models.UUIDField(null=True, blank=True)
    # Written with the event by audit.record: "<key id>:<HMAC>" over the fields above, with the key the
    # database never holds. An event inserted around the app (raw SQL with the database's credentials)
    # cannot carry a valid one; NULL only for events written before tags existed (migration 0005).
    origin = models.CharField(
        max_length=96,
        null=True,
        blank=True,
        help_text="Key id and HMAC of the event's content, written by the app with the event",
    )
    # The chain: filled once by the sealer after commit (NULL until then), never changed afterwards.
    seq = models.BigIntegerField(null=True, blank=True, unique=True, help_text="Position in the hash chain")
    prev_hash = models.CharField(max_length=64, null=True, blank=True)
    hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    key_id = models.CharField(
        max_length=16,
        null=True,
        blank=True,
        help_text="Id of the key whose HMAC sealed the event; empty when sealed before the chain was keyed",
    )

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "id"], name="audit_object_idx"),
            models.Index(fields=["event_type", "created_at"], name="audit_type_time_idx"),
            models.Index(fields=["actor", "created_at"], name="audit_actor_time_idx"),
            models.Index(fields=["correlation_id"], name="audit_correlation_idx"),
            # The sealer's work list: tiny, whatever the size of the log.
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="audit_unsealed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.event_type} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events cannot be deleted")
