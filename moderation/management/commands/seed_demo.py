"""Demo accounts and a month of realistic activity, written through the real services.

Every report, review, note and assignment goes through the same services as the pages, so the
audit log of the demo is as real as production's. Events are replayed in time order under a
seeded clock, which keeps the hash chain and the timestamps consistent.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import io
import itertools
import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from unittest import mock

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import override_settings
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFilter

from audit import services as audit
from moderation import services as moderation
from moderation.enforcement import services as enforcement
from moderation.enforcement.actions import ActionKind
from moderation.hashbank import services as hashbank
from moderation.signals import services as signal_services
from moderation.signals.services import SignalItem
from moderation.stories import services as stories
from reports import services as reports
from reports.categories import Category
from reports.categories import rule_for as category_rule
from reports.models import Report, Target, TargetKind
from reports.uploads import clean_upload

DEMO_STAFF = [("mod", "moderator"), ("mia", "moderator"), ("compliance", "compliance"), ("admin", "admin")]
DEMO_USERS = [
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "victor",
    "walter",
    "yara",
    "zoe",
    "kenji",
    "leila",
    "marco",
    "nora",
    "omar",
    "priya",
    "quinn",
    "rosa",
    "sami",
]
SIGN_IN_DEMO_USERS = {"alice", "bob", "carol"}
ROOMS = ["lobby", "gaming", "music", "late-night", "study-group", "photography", "fitness", "movies"]
MESSAGES = [
    "hey everyone, who's up for a match tonight?",
    "you are pathetic, nobody wants you here. log off and never come back",
    "DM me for cheap followers!!! 1000 for $5 http://spam.example/buy",
    "I know where you live. Keep talking and you'll see what happens.",
    "can someone share the notes from yesterday's session?",
    "send me your pics or I'll post the ones I already have",
    "free crypto giveaway, just send 0.1 BTC to verify your wallet",
    "people like you shouldn't be allowed on this platform",
    "that stream last night was amazing, thanks for hosting",
    "I'm 13 but my profile says 18 lol",
    "click here to claim your prize: bit.example/win",
    "stop messaging me. I've asked you five times.",
    "anyone selling tickets for saturday?",
    "you'll regret blocking me, I have other accounts",
]
REASONS = {
    Category.HARASSMENT: "This user keeps sending me insults in the {room} room after I asked them to stop. "
    "It has happened every evening this week.",
    Category.HATE_SPEECH: "Attacks people for their religion in #{room}, several messages in a row.",
    Category.VIOLENCE: "They threatened to come to my house. I'm scared; it was in #{room} around 9pm.",
    Category.SPAM: "Posting the same link to a fake shop in every room, looks like a bot.",
    Category.FRAUD: "Asked me to send crypto to 'verify' my account. Classic scam.",
    Category.NON_CONSENSUAL: "Shared a private photo of me during a video session without my consent.",
    Category.CHILD_SAFETY: "An adult is asking a user who says they're 13 for photos.",
    Category.UNDERAGE_USER: "Says in chat that they are 13.",
    Category.IMPERSONATION: "This profile uses my name and photos and messages my friends.",
    Category.COPYRIGHT: "Streams my paid course videos in full without permission.",
    Category.ILLEGAL_CONTENT: "Offers to sell prescription drugs in the chat.",
    Category.HUMAN_TRAFFICKING: "Recruiting people for 'jobs abroad' and asking for passport photos.",
    Category.SEX_TRAFFICKING: "Advertising paid 'meetings' with other people, they seem coerced.",
    Category.OTHER_TOS: "Uses a bot to join rooms and spam emoji walls.",
}
TEMPORARY = {ActionKind.TIMEOUT, ActionKind.SUSPENSION, ActionKind.WITHHOLD_PAYMENTS}
GROUNDS = {
    Category.HARASSMENT: "Terms of service §4.2 (harassment)",
    Category.HATE_SPEECH: "Terms of service §4.3 (hateful conduct)",
    Category.SPAM: "Terms of service §6.1 (spam and platform manipulation)",
    Category.FRAUD: "Terms of service §6.4 (scams)",
    Category.COPYRIGHT: "Directive (EU) 2019/790, Art. 17",
    Category.IMPERSONATION: "Terms of service §5.1 (impersonation)",
    Category.CHILD_SAFETY: "Directive 2011/93/EU (child sexual abuse)",
    Category.UNDERAGE_USER: "Terms of service §2 (minimum age)",
}
CATEGORY_WEIGHTS = {
    Category.HARASSMENT: 18,
    Category.SPAM: 16,
    Category.HATE_SPEECH: 10,
    Category.FRAUD: 9,
    Category.VIOLENCE: 6,
    Category.IMPERSONATION: 6,
    Category.NON_CONSENSUAL: 5,
    Category.OTHER_TOS: 6,
    Category.COPYRIGHT: 4,
    Category.UNDERAGE_USER: 4,
    Category.CHILD_SAFETY: 3,
    Category.ILLEGAL_CONTENT: 4,
    Category.HUMAN_TRAFFICKING: 2,
    Category.SEX_TRAFFICKING: 2,
}


@contextlib.contextmanager
def seeded_clock(moment: datetime) -> Iterator[None]:
    """Run services as if it were `moment` (auto_now fields, deadlines and audit timestamps)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def demo_png(text: str, colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (480, 270), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((16, 16, 464, 254), outline=(255, 255, 255), width=3)
    draw.text((32, 120), text[:60], fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def demo_picture(seed: int) -> bytes:
    """Shapes on a ground, drawn from a seed: a picture with enough structure for PDQ to rate it
    well, for the demo's hash bank. Never real material."""
    rng = random.Random(seed)  # nosec B311  # demo pictures, not security
    image = Image.new("RGB", (320, 240), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(25):
        x, y = rng.randrange(320), rng.randrange(240)
        w, h = rng.randrange(32, 160), rng.randrange(24, 120)
        draw.ellipse([x, y, x + w, y + h], fill=tuple(rng.randrange(256) for _ in range(3)))
    buffer = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(2)).save(buffer, format="PNG")
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Create demo accounts, a few hundred targets and reports over the last 30 days (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--reports", type=int, default=500, help="How many reports to file (default 500).")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, **options):
        if Report.objects.exists():
            self.stdout.write("Demo data already present; nothing to add.")
            self._print_accounts()
            return
        # Demo notices would flood the terminal; the real mail path is exercised by the tests.
        if connection.vendor == "sqlite" and not connection.in_atomic_block:
            # A demo database is rebuilt from scratch if seeding is interrupted, so skip the fsync
            # after each of the few thousand small transactions (minutes -> seconds).
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=OFF")
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            staff, users = self._accounts()
            # bandit B311: demo data, not security
            self._seed(random.Random(options["seed"]), users, staff, options["reports"])  # nosec B311
        self._print_accounts()

    def _accounts(self):
        User = get_user_model()  # noqa: N806
        staff = {}
        for username, role in DEMO_STAFF:
            staff[username], _ = moderation.staff_create(
                actor=audit.SYSTEM,
                username=username,
                role=role,
                email=f"{username}@example.test",
                password=f"{username}-demo",
            )
        users = []
        for username in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.test"}
            )
            if created:
                user.set_password(f"{username}-demo")
                user.save()
            users.append(user)
        return staff, users

    def _seed(self, rng: random.Random, users, staff, report_count: int) -> None:
        now = timezone.now()
        start = now - timedelta(days=30)
        targets = self._targets(rng, users, start)
        self.staff = staff
        self.rng = rng
        self.now = now
        self.counts: dict[str, int] = {}
        categories = list(CATEGORY_WEIGHTS)
        weights = list(CATEGORY_WEIGHTS.values())
        # Everything happens on one timeline, replayed in time order, so that audit events are
        # chronological: filings first, each followed later by its review, decision and appeal.
        timeline: list[tuple[datetime, int, Callable[[], None]]] = []
        sequence = itertools.count()

        def at(moment: datetime, step: Callable[[], None]) -> None:
            if moment < now:
                heapq.heappush(timeline, (moment, next(sequence), step))

        for _ in range(report_count):
            target = rng.choice(targets)
            reporter = rng.choice([u for u in users if u.pk != target.owner_id])
            # Most reports are recent; the tail reaches back 30 days.
            # Half arrived in the last three days (today's queue); the rest over the month.
            days = rng.uniform(0, 3) if rng.random() < 0.5 else rng.triangular(0, 30, 3)
            moment = now - timedelta(days=days)
            category = rng.choices(categories, weights)[0]
            at(moment, functools.partial(self._file, target, reporter, category, at))
        self._stories(users, at)
        while timeline:
            moment, _, step = heapq.heappop(timeline)
            with seeded_clock(moment):
                step()
        self._ensure_under_review()
        self._machines(rng, targets)
        expired = enforcement.expire_sanctions()
        self.counts["expired sanctions"] = len(expired)
        summary = ", ".join(f"{count} {what}" for what, count in sorted(self.counts.items()))
        self.stdout.write(f"Seeded {len(targets)} targets; {summary}.")

    def _machines(self, rng: random.Random, targets: list[Target]) -> None:
        """The machines' side: two detectors with their policies (set by the demo admin, audited), a
        hash bank of three pictures drawn here (never real material), and a few dozen signals from
        the platform, one of whose frames matches the bank."""
        admin = self.staff["admin"]
        policies = {
            "toxicity-model": [("", "0.3", "0.7", None)],
            "nudity-classifier": [
                ("", "0.4", "0.8", None),
                (Category.NON_CONSENSUAL, "0.2", "0.6", None),
                (Category.CHILD_SAFETY, "0.1", "0.4", "0.95"),
            ],
        }
        for name, rows in policies.items():
            detector = signal_services.detector_save(
                actor=admin, detector_id=None, name=name, description=f"The platform's {name}", active=True
            )
            for category, floor, review, action in rows:
                signal_services.policy_save(
                    actor=admin,
                    policy_id=None,
                    detector=detector,
                    category=category,
                    floor=Decimal(floor),
                    review_threshold=Decimal(review),
                    action_threshold=Decimal(action) if action else None,
                )
        on_record = Report.objects.order_by("created_at").first()
        bank_pictures = [demo_picture(seed) for seed in (101, 102, 103)]
        for picture in bank_pictures:
            hashbank.entry_add_from_media(
                actor=self.staff["compliance"], content=picture, category=Category.CHILD_SAFETY, report=on_record
            )
        messages = [t for t in targets if t.kind == TargetKind.MESSAGE]
        media = [t for t in targets if t.kind in (TargetKind.FILE, TargetKind.VIDEO_STORY)]
        items = []
        for n, target in enumerate(rng.sample(messages, 20)):
            items.append(
                SignalItem(
                    idempotency_key=f"demo-toxicity-{n}",
                    source_name="toxicity-model",
                    source_version="2.3.1",
                    category=rng.choice([Category.HARASSMENT, Category.HATE_SPEECH, Category.SPAM]),
                    score=Decimal(f"{rng.uniform(0.1, 0.99):.4f}"),
                    target_id=target.public_id,
                    labels=rng.sample(["insult", "slur", "threat", "link", "repeat"], 2),
                )
            )
        for n, target in enumerate(rng.sample(media, 8)):
            items.append(
                SignalItem(
                    idempotency_key=f"demo-nudity-{n}",
                    source_name="nudity-classifier",
                    source_version="4.0",
                    category=Category.NON_CONSENSUAL,
                    score=Decimal(f"{rng.uniform(0.3, 0.95):.4f}"),
                    target_id=target.public_id,
                    labels=["explicit"],
                )
            )
        # A live session's frame that matches the bank (the same picture sent again): quarantined,
        # reported and escalated; and one above the action threshold on a story.
        frame = bank_pictures[0]
        items.append(
            SignalItem(
                idempotency_key="demo-frame-match",
                source_name="nudity-classifier",
                source_version="4.0",
                category=Category.NON_CONSENSUAL,
                score=Decimal("0.4100"),
                new_target=signal_services.NewTarget(
                    kind=TargetKind.VIDEO_SESSION, external_id="demo-session-frame", title="Live session in #late-night"
                ),
                frame=clean_upload(SimpleUploadedFile("frame.png", frame)),
                frame_hashes=signal_services.frame_hashes(frame),
            )
        )
        items.append(
            SignalItem(
                idempotency_key="demo-action-threshold",
                source_name="nudity-classifier",
                source_version="4.0",
                category=Category.CHILD_SAFETY,
                score=Decimal("0.9700"),
                target_id=rng.choice(media).public_id,
                labels=["minor", "explicit"],
            )
        )
        results = signal_services.signals_ingest(actor=audit.SystemActor("platform key demo"), items=items)
        for result in results:
            self._bump(f"signals {result.status}")

    def _ensure_under_review(self) -> None:
        """Every status shows in the demo, however few reports were asked for."""
        if Report.objects.filter(status="reviewed").exists():
            return
        oldest = Report.objects.filter(status="pending").order_by("created_at").first()
        if oldest is not None:
            moderation.report_review(
                actor=self.staff["mod"], report_id=oldest.pk, status="reviewed", admin_notes="Looking at the room logs."
            )

    # Video stories held before publication: (title, caption, hours since received, verdict).
    DEMO_STORIES = [
        ("Night drive", "Watch till the end", 27, None),
        ("Tutorial part 4", "Soldering a keyboard", 20, None),
        ("Unboxing", "New camera day!", 6, None),
        ("My new setup", "Desk tour", 2, None),
        ("Beach day", "Sun and waves", 0.3, None),
        ("Cooking with Zoe", "Pasta from scratch", 30, "approve"),
        ("Free crypto giveaway", "DM me your wallet for 10x", 28, "reject"),
        ("Party clip", "Last night", 9, "detector"),
    ]

    def _stories(self, users, at) -> None:
        """A few stories waiting for review (deadlines ok, soon and overdue), one approved and one
        rejected, on the demo's timeline; their frames are drawn here, never real material."""
        colours = [(30, 100, 160), (160, 70, 40), (60, 130, 80), (110, 60, 150)]
        for n, (title, caption, hours, verdict) in enumerate(self.DEMO_STORIES):
            owner = users[(n * 5) % len(users)]
            received = self.now - timedelta(hours=hours)
            submitted: dict[str, object] = {}
            at(
                received,
                functools.partial(
                    self._submit_story,
                    n,
                    owner,
                    f"{title} by @{owner.get_username()}",
                    caption,
                    colours[n % len(colours)],
                    received,
                    submitted,
                ),
            )
            if verdict is not None:
                at(received + timedelta(hours=1), functools.partial(self._decide_story, verdict, submitted))

    def _submit_story(self, n, owner, title, caption, colour, received, submitted) -> None:
        # Shapes from a seed of its own: a flat frame with a caption would sit within PDQ's distance
        # of the flat demo snapshots that decisions put in the hash bank, and be rejected as a match.
        frame = demo_picture(500 + n)
        clean = clean_upload(SimpleUploadedFile("frame.png", frame))
        submitted["story"] = stories.story_submit(
            actor=audit.SystemActor("platform key demo-platform"),
            external_id=f"demo-story-review-{n}",
            owner=owner,
            title=title,
            caption=caption,
            frame=frame,
            frame_clean=clean.content,
            frame_content_type=clean.content_type,
            media_url=f"https://cdn.chat.example/stories/demo-{n}.mp4",
            submitted_at=received - timedelta(minutes=2),
            metadata={"duration_seconds": 10 + n * 3},
        ).story
        self._bump("stories submitted for review")

    def _decide_story(self, verdict, submitted) -> None:
        story = submitted["story"]
        if verdict == "approve":
            stories.story_approve(actor=self.staff["mia"], story_id=story.pk)
        elif verdict == "detector":
            # What the signals' policy does above a detector's action threshold: compliance confirms.
            stories.reject_story_automatically(
                story=story,
                reason=Category.VIOLENCE,
                source="demo detector violence-v2 1.4 (score 0.96)",
                data={"score": 0.96},
            )
        else:
            stories.story_reject(
                actor=self.staff["mod"],
                story_id=story.pk,
                category=Category.FRAUD,
                explanation="Promises returns on crypto sent to a private wallet: a scam.",
            )
        self._bump(
            {"approve": "stories approved", "detector": "stories rejected automatically"}.get(
                verdict, "stories rejected"
            )
        )

    def _bump(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def _file(self, target: Target, reporter, category: str, at) -> None:
        rng = self.rng
        evidence = []
        if rng.random() < 0.15:
            picture = demo_png(f"screenshot of {target.title}", (90, 60, 140))
            evidence = [SimpleUploadedFile("screenshot.png", picture, "image/png")]
        moment = timezone.now()
        try:
            report = reports.report_file(
                actor=reporter,
                target=target,
                category=category,
                reason=REASONS[category].format(room=target.metadata.get("room", "lobby")),
                incident_at=moment - timedelta(minutes=rng.randint(5, 600)),
                is_pattern=rng.random() < 0.3,
                evidence=evidence,
            )
        except ValidationError:  # duplicate open report or rate limit: a real user is told; skip
            return
        self._bump("reports")
        age_hours = (self.now - moment).total_seconds() / 3600
        # The last three days make the live queue; a few older ones were missed and are overdue.
        window_hours = (report.due_at - moment).total_seconds() / 3600
        fresh = age_hours < min(72, window_hours * 0.75)
        if age_hours < 6 or (fresh and rng.random() < 0.9) or rng.random() < 0.02:
            return
        # Critical reports are mostly handled within their 24 hours; the rest within a few days.
        slowest = 30 if report.severity == "critical" else 90
        later = moment + timedelta(hours=rng.uniform(0.5, min(age_hours - 0.1, slowest)))
        at(later, functools.partial(self._work_on, report.pk, at))

    def _work_on(self, report_id, at, first_look: bool = True) -> None:
        rng, roll = self.rng, self.rng.random()
        if not first_look:
            roll = rng.uniform(0.3, 1.0)  # the second look ends in a decision
        report = Report.objects.select_related("target").get(pk=report_id)
        if not report.is_open:
            return  # a decision on another report of the same target closed it
        moderator = rng.choice([self.staff["mod"], self.staff["mia"]])
        status_after_first_look = "reviewed" if 0.15 <= roll < 0.25 else "other"
        if roll < 0.15:
            moderation.report_assign(actor=moderator, report_id=report.pk, assignee=moderator)
        elif roll < 0.25:
            moderation.report_review(
                actor=moderator, report_id=report.pk, status="reviewed", admin_notes="Looking at the room logs."
            )
            moderation.report_add_note(
                actor=moderator, report_id=report.pk, body="Checked the chat log around the incident time."
            )
        elif roll < 0.3:
            moderation.report_escalate(
                actor=moderator, report_id=report.pk, reason="Possible legal issue; needs compliance review."
            )
        elif roll < 0.5:
            moderation.report_review(
                actor=moderator, report_id=report.pk, status="dismissed", admin_notes="No violation found in the logs."
            )
            self._bump("dismissals")
            if report.reporter_id and rng.random() < 0.25:
                at(
                    timezone.now() + timedelta(hours=rng.uniform(2, 48)),
                    functools.partial(self._appeal, None, report.pk, at),
                )
        else:
            self._decide(report, moderator, at)
            return
        # Assigned and escalated reports get a second look that decides them; reviewed ones stay
        # under investigation, so the queue shows every status.
        if first_look and status_after_first_look != "reviewed" and rng.random() < 0.85:
            at(
                timezone.now() + timedelta(hours=rng.uniform(1, 20)),
                functools.partial(self._work_on, report.pk, at, first_look=False),
            )

    def _decide(self, report: Report, moderator, at) -> None:
        rng = self.rng
        kind = report.target.kind
        compliance = self.staff["compliance"]
        if report.target.owner and report.target.owner.username in SIGN_IN_DEMO_USERS:
            # The accounts printed for newcomers must stay able to sign in.
            actor, kinds = moderator, [ActionKind.REMOVE_CONTENT if kind == "message" else ActionKind.WARNING]
        elif category_rule(report.category).zero_tolerance:
            actor, kinds = compliance, [ActionKind.REMOVE_CONTENT, ActionKind.TERMINATION, ActionKind.REFER_AUTHORITIES]
        elif report.category == Category.FRAUD and kind in ("user", "profile"):
            actor, kinds = compliance, [ActionKind.WITHHOLD_PAYMENTS, ActionKind.SUSPENSION]
        elif kind == "video_session":
            actor, kinds = moderator, [ActionKind.KICK, ActionKind.TIMEOUT]
        elif kind in ("file", "video_story"):
            actor, kinds = moderator, [rng.choice([ActionKind.QUARANTINE_FILE, ActionKind.REMOVE_CONTENT])]
        elif kind == "message":
            actor, kinds = moderator, [ActionKind.REMOVE_CONTENT, ActionKind.WARNING]
        else:
            actor, kinds = moderator, [rng.choice([ActionKind.WARNING, ActionKind.TIMEOUT, ActionKind.SUSPENSION])]
        ends_at = timezone.now() + timedelta(hours=rng.choice([24, 72, 168]))
        sanctions = enforcement.decision_apply(
            actor=actor,
            report_id=report.pk,
            actions=[enforcement.ActionRequest(kind=k, ends_at=ends_at if k in TEMPORARY else None) for k in kinds],
            ground_type="law" if report.severity == "critical" else "terms",
            ground=GROUNDS.get(report.category, "Terms of service §4 (community rules)"),
            facts=f"{report.get_category_display()}: {report.target.title}. Confirmed in the platform's logs.",
            apply_to_all_open=True,
            ladder_override_reason="Proportionate to this case.",
            # The month's decisions are drawn at random, so one may repeat what is already in force
            # (a second termination): recorded anyway, as a moderator may by confirming.
            confirm_unchanged=True,
        )
        for sanction in sanctions:
            self._bump(f"× {sanction.kind}")
            if sanction.kind == ActionKind.REFER_AUTHORITIES and rng.random() < 0.6:
                at(
                    timezone.now() + timedelta(hours=rng.uniform(1, 20)),
                    functools.partial(self._approve_referral, sanction.pk),
                )
        appealable = [s for s in sanctions if s.kind != ActionKind.REFER_AUTHORITIES]
        if appealable and rng.random() < 0.35:
            at(
                timezone.now() + timedelta(hours=rng.uniform(2, 72)),
                functools.partial(self._appeal, appealable[-1].pk, None, at),
            )

    def _approve_referral(self, sanction_id) -> None:
        enforcement.referral_approve(
            actor=self.staff["admin"], sanction_id=sanction_id, reference=f"REF-{self.rng.randint(10000, 99999)}"
        )
        self._bump("approved referrals")

    def _appeal(self, sanction_id, report_id, at) -> None:
        if sanction_id:
            sanction = enforcement.Sanction.objects.get(pk=sanction_id)
            appellant, text = sanction.account, "I think this was a misunderstanding; please look again."
        else:
            appellant = Report.objects.get(pk=report_id).reporter
            text = "The messages clearly broke the rules; please look at the second one."
        appeal = enforcement.appeal_file(actor=appellant, sanction_id=sanction_id, report_id=report_id, text=text)
        self._bump("appeals")
        if self.rng.random() < 0.7:
            at(
                timezone.now() + timedelta(hours=self.rng.uniform(4, 72)),
                functools.partial(self._decide_appeal, appeal.pk),
            )

    def _decide_appeal(self, appeal_id) -> None:
        appeal = enforcement.Appeal.objects.select_related("sanction", "report").get(pk=appeal_id)
        original = appeal.sanction.decided_by_id if appeal.sanction_id else appeal.report.reviewed_by_id
        decider = self.staff["admin"] if original == self.staff["compliance"].pk else self.staff["compliance"]
        outcome = self.rng.choice(["upheld", "upheld", "partially_reversed", "reversed"])
        enforcement.appeal_decide(
            actor=decider,
            appeal_id=appeal_id,
            outcome=outcome,
            reason={
                "upheld": "The logs confirm the violation; the decision stands.",
                "partially_reversed": "The content removal stands; the rest was too harsh.",
                "reversed": "On a second look the content does not break the rules.",
            }[outcome],
        )
        self._bump(f"appeals {outcome}")

    def _targets(self, rng: random.Random, users, start: datetime) -> list[Target]:
        targets = []
        plan = [
            (TargetKind.MESSAGE, 150),
            (TargetKind.USER, 30),
            (TargetKind.PROFILE, 30),
            (TargetKind.FILE, 30),
            (TargetKind.VIDEO_SESSION, 30),
            (TargetKind.VIDEO_STORY, 30),
        ]
        moment = start - timedelta(days=2)
        colours = [(200, 60, 60), (40, 120, 180), (60, 150, 90), (170, 110, 30), (120, 80, 160)]
        for kind, count in plan:
            for n in range(count):
                owner = rng.choice(users)
                room = rng.choice(ROOMS)
                moment += timedelta(minutes=rng.randint(1, 40))
                text, file_content, content_type = "", None, ""
                if kind == TargetKind.MESSAGE:
                    text = rng.choice(MESSAGES)
                    title = f"Message in #{room}"
                elif kind == TargetKind.USER:
                    title = f"Account @{owner.get_username()}"
                    text = f"Account {owner.get_username()}, joined {rng.randint(1, 36)} months ago"
                elif kind == TargetKind.PROFILE:
                    title = f"Profile of @{owner.get_username()}"
                    text = rng.choice(
                        [
                            "Just here to chat.",
                            "DM for business offers 💰",
                            "Streamer. 18+",
                            "Official support account — send me your password to verify",
                        ]
                    )
                elif kind == TargetKind.FILE:
                    name = rng.choice(["photo", "notes", "invoice", "screenshot", "clip"])
                    title = f"{name}_{n}.png shared in #{room}"
                    file_content, content_type = demo_png(title, rng.choice(colours)), "image/png"
                elif kind == TargetKind.VIDEO_SESSION:
                    title = f"Live session in #{room}"
                    text = f"Live video session hosted by @{owner.get_username()} with {rng.randint(2, 40)} viewers"
                else:
                    title = f"Story by @{owner.get_username()}"
                    text = rng.choice(["Night out 🎉", "Tutorial part 3", "Unboxing", "My new setup"])
                    file_content, content_type = demo_png(title, rng.choice(colours)), "image/png"
                with seeded_clock(moment):
                    target, _ = reports.target_register(
                        actor=audit.SYSTEM,
                        kind=kind,
                        external_id=f"demo-{kind}-{n}",
                        owner=owner,
                        title=title,
                        text=text,
                        file_content=file_content,
                        file_content_type=content_type,
                        metadata={
                            "room": room,
                            "session_id": f"sess-{rng.randint(1000, 9999)}",
                            "posted_at": moment.isoformat(),
                        },
                    )
                targets.append(target)
        return targets

    def _print_accounts(self) -> None:
        self.stdout.write(self.style.SUCCESS("\nDemo accounts (username / password):"))
        for username, role in DEMO_STAFF:
            self.stdout.write(f"  {username:<12} {username}-demo   ({role})")
        for username in sorted(SIGN_IN_DEMO_USERS):
            self.stdout.write(f"  {username:<12} {username}-demo   (user; {len(DEMO_USERS)} such users in all)")
