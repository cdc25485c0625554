"""Reads of the hash bank: matching media against it."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from moderation.hashbank.index import bank_index
from moderation.hashbank.models import BankEntry

# The nearest PDQ matches read back at most: a match is a match, and more ids than this would only
# make the read slower (a generic-looking upload can sit near many entries).
MAX_PDQ_MATCHES = 100


class MatchType:
    SHA256 = "sha256"
    PDQ = "pdq"


@dataclass(frozen=True)
class BankMatch:
    entry: BankEntry
    match_type: str  # MatchType: the same bytes (sha256) or a perceptually near image (pdq)
    distance: int  # PDQ bits that differ; 0 for a SHA-256 match


def match_media(*, sha256: str | None, pdq: str | None, pdq_quality: int | None = None) -> list[BankMatch]:
    """The active bank entries that the media with these hashes matches, best first.

    `sha256` and `pdq` are 64 lowercase hex digits (hashing.normalize_hex), either may be None. An
    entry matches when its SHA-256 is the same (the database's index), or when its PDQ is within
    HASHBANK_PDQ_MAX_DISTANCE bits (the in-memory index). A PDQ whose quality is known to be below
    HASHBANK_PDQ_MIN_QUALITY is not compared: featureless images would match one another.

    Three queries at most: the index's state, then one read of the matched entries, which also
    re-checks `active` (an index that has not yet rebuilt after a retirement cannot bring a retired
    entry back).
    """
    max_distance = settings.HASHBANK_PDQ_MAX_DISTANCE
    near: dict[int, int] = {}
    if pdq and (pdq_quality is None or pdq_quality >= settings.HASHBANK_PDQ_MIN_QUALITY):
        near = dict(bank_index.lookup(pdq, max_distance=max_distance)[:MAX_PDQ_MATCHES])
    wanted = Q(id__in=list(near)) if near else Q()
    if sha256:
        wanted |= Q(sha256=sha256)
    if not wanted:
        return []
    entries = BankEntry.objects.filter(wanted, active=True).select_related("import_batch")
    matches = []
    for entry in entries:
        if sha256 and entry.sha256 == sha256:
            matches.append(BankMatch(entry, MatchType.SHA256, 0))
        else:
            matches.append(BankMatch(entry, MatchType.PDQ, near[entry.pk]))
    return sorted(matches, key=lambda match: (match.match_type != MatchType.SHA256, match.distance, match.entry.pk))
