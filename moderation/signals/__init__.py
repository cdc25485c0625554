"""Machine signals: the platform's detectors as a report source (POST /api/signals).

- models.py: Detector (a registered source), SignalPolicy (floor, review and action thresholds per
  detector and category, edited by admins, every change audited), Signal (one detection, kept
  whatever its score), AutomatedCase (what an automated report's row shows: its strongest source
  and score), BankHit (a hash bank match on a snapshot, an evidence file or a frame).
- policy.py: what a score means under a policy (kept, attached, queued, acted on) and where it puts
  the report within its deadline.
- services.py: a batch of signals (one savepoint per item), policy changes, the hash bank's hooks
  (every new snapshot, evidence file and frame matched; a match quarantines, reports and escalates).
- api.py, serializers.py: POST /api/signals (platform key).
- reports_hooks.py: the media check the reports app calls through reports/hooks.py.
- admin.py: detectors and policies in Django's admin, each change through services.py.
"""
