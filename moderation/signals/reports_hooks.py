"""The media check the reports app calls (reports/hooks.py MediaCheck), registered in apps.py: every
new snapshot and evidence file is matched against the hash bank inside the transaction storing it."""

from __future__ import annotations

from moderation.signals.models import MediaOrigin
from moderation.signals.services import media_check
from reports.models import Evidence, Report, Target


class MediaCheck:
    def snapshot_stored(self, *, target: Target, content: bytes) -> None:
        media_check(target=target, content=content, sha256=target.snapshot_sha256, origin=MediaOrigin.SNAPSHOT)

    def evidence_stored(self, *, report: Report, files: list[tuple[Evidence, bytes]]) -> None:
        for evidence, content in files:
            media_check(target=report.target, content=content, sha256=evidence.sha256, origin=MediaOrigin.EVIDENCE)
