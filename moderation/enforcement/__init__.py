"""Enforcement, moderation's second half: what happens once a report is decided.

Decisions (one or more actions from the one table, actions.py), sanctions and their effects
(sign-in blocked, content removed), referrals to the authorities with a second approval, the
notices people are sent, appeals, misuse warnings and pauses, trusted flaggers, legal holds and
evidence retention, the platform's webhook outbox, and the EU DSA statement exports. A Django app
of its own (label "enforcement") inside moderation/; docs/architecture.md draws where it sits.
"""
