"""Signed checkpoints of the audit chain, kept outside the database.

A checkpoint says "the chain had `count` events, the last at `seq` with hash `hash`, at `created_at`",
signed with an HMAC of AUDIT_SIGNING_KEY. It is written through Django's storage API to
STORAGES["audit_checkpoints"] (a directory by default, an S3 bucket with object lock in production),
where the database's users cannot reach it. The chain alone cannot show events cut off its end, or
a fully rebuilt chain; a checkpoint can: audit.verify compares the chain with every one of them.

Names are `<database>/<day>/<seq, 12 digits>-<hash prefix>.json`: taking a checkpoint of the same
chain twice (two hosts' cron in the same minute) names the same file, which is then left as it is;
an idle chain gets one checkpoint a day at most. The database's name (from the settings, not from the
database) keeps the checkpoints of several databases sharing one storage apart.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import connection
from django.utils.dateparse import parse_datetime

from audit.services import SigningKey

STORAGE_ALIAS = "audit_checkpoints"
FORMAT = 1


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    count: int
    created_at: datetime
    key_id: str
    legacy_until: int  # the last event sealed before the chain was keyed (0: none)
    signature: str = ""
    name: str = ""

    def body(self) -> dict:
        return {
            "format": FORMAT,
            "seq": self.seq,
            "hash": self.hash,
            "count": self.count,
            "created_at": self.created_at.isoformat(),
            "key_id": self.key_id,
            "legacy_until": self.legacy_until,
        }

    def signed(self, key: SigningKey) -> Checkpoint:
        unsigned = replace(self, key_id=key.id)
        return replace(unsigned, signature=sign(unsigned.body(), key))

    def signature_valid(self, keys: dict[str, SigningKey]) -> bool:
        key = keys.get(self.key_id)
        return key is not None and hmac.compare_digest(sign(self.body(), key), self.signature)

    def file_name(self) -> str:
        return f"{_folder()}/{self.created_at:%Y-%m-%d}/{self.seq:012d}-{self.hash[:16]}.json"

    def to_json(self) -> bytes:
        return json.dumps(self.body() | {"signature": self.signature}, indent=2).encode() + b"\n"


def sign(body: dict, key: SigningKey) -> str:
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key.secret, b"checkpoint\n" + encoded, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class UnreadableCheckpoint:
    """A file in the checkpoint storage that is not a checkpoint we wrote (damaged, or forged)."""

    name: str
    problem: str


def storage() -> Storage:
    return storages[STORAGE_ALIAS]


def _folder() -> str:
    # A SQLite database's NAME is a path: its file name is enough (the storage sits beside it).
    return Path(str(connection.settings_dict["NAME"])).name


def parse(name: str, raw: bytes) -> Checkpoint | UnreadableCheckpoint:
    try:
        data = json.loads(raw)
        created_at = parse_datetime(data["created_at"])
        if data.get("format") != FORMAT or created_at is None:
            raise ValueError("unknown format")
        return Checkpoint(
            seq=int(data["seq"]),
            hash=str(data["hash"]),
            count=int(data["count"]),
            created_at=created_at,
            key_id=str(data["key_id"]),
            legacy_until=int(data["legacy_until"]),
            signature=str(data["signature"]),
            name=name,
        )
    except (ValueError, KeyError, TypeError) as exc:
        return UnreadableCheckpoint(name, f"is not a checkpoint file ({exc})")


def _listdir(path: str) -> tuple[list[str], list[str]]:
    try:
        return storage().listdir(path)
    except FileNotFoundError:  # nothing written yet
        return [], []


def _read(name: str) -> Checkpoint | UnreadableCheckpoint:
    with storage().open(name, "rb") as handle:
        return parse(name, handle.read())


def read_all() -> list[Checkpoint | UnreadableCheckpoint]:
    """Every checkpoint of this database in the storage, oldest day first."""
    found: list[Checkpoint | UnreadableCheckpoint] = []
    folder = _folder()
    days, stray = _listdir(folder)
    found.extend(UnreadableCheckpoint(f"{folder}/{name}", "is not in a day's folder") for name in sorted(stray))
    for day in sorted(days):
        found.extend(_read(f"{folder}/{day}/{name}") for name in sorted(_listdir(f"{folder}/{day}")[1]))
    return found


def latest() -> Checkpoint | UnreadableCheckpoint | None:
    """The newest checkpoint: the last file of the last day (two listings and one read)."""
    folder = _folder()
    days, _ = _listdir(folder)
    for day in sorted(days, reverse=True):
        names = sorted(_listdir(f"{folder}/{day}")[1])
        if names:
            return _read(f"{folder}/{day}/{names[-1]}")
    return None


def store(checkpoint: Checkpoint) -> bool:
    """Write the checkpoint unless the same one is there already. True when written."""
    name = checkpoint.file_name()
    if storage().exists(name):
        return False
    storage().save(name, ContentFile(checkpoint.to_json()))
    return True


def latest_summary() -> dict | None:
    """The newest checkpoint as the audit page and the transparency report show it: what it says,
    whether its signature holds, and whether the chain still has its hash at its seq (one query)."""
    from audit.models import AuditEvent
    from audit.services import known_keys

    item = latest()
    if item is None:
        return None
    if isinstance(item, UnreadableCheckpoint):
        return {"name": item.name, "problem": item.problem}
    at_seq = AuditEvent.objects.filter(seq=item.seq).values_list("hash", flat=True).first()
    return {
        "name": item.name,
        "seq": item.seq,
        "hash": item.hash,
        "count": item.count,
        "created_at": item.created_at,
        "signature_valid": item.signature_valid(known_keys()),
        "matches_chain": at_seq == item.hash,
    }
