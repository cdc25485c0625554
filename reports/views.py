from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from config import throttle
from config.dates import long_date
from reports import hooks, selectors, services
from reports.categories import CATEGORY_RULES, Category
from reports.forms import ComplaintForm, InfoAnswerForm, ReportForm, add_service_errors
from reports.models import HeldEvidence, InfoRequest, Report, ReportStatus, TargetKind
from reports.services import attach_at_most


def report_submitted(report: Report) -> str:
    """The filing's confirmation: its reference and when we act by."""
    return _(
        "Report %(reference)s sent. We will review it by %(deadline)s, and tell you the outcome. "
        "The person you reported is never told who you are."
    ) % {"reference": report.short_id, "deadline": long_date(report.due_at)}


DEMO_SECTION_TITLES = {
    TargetKind.MESSAGE: gettext_lazy("Chat rooms"),
    TargetKind.USER: gettext_lazy("Accounts"),
    TargetKind.FILE: gettext_lazy("Shared files"),
    TargetKind.VIDEO_SESSION: gettext_lazy("Live video sessions"),
    TargetKind.VIDEO_STORY: gettext_lazy("Video stories"),
    TargetKind.PROFILE: gettext_lazy("Profiles"),
}


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "reports/home.html")
    if request.user.has_perm("reports.view_queue"):
        return redirect("moderation:queue")
    return redirect("reports:demo")


@login_required
def demo_platform(request: HttpRequest) -> HttpResponse:
    """Stands in for the host platform: its content, each with the platform's "Report" link."""
    grouped = selectors.demo_platform_targets(user=request.user)
    all_targets = [target for targets in grouped.values() for target in targets]
    already = selectors.open_report_ids_by(user=request.user, targets=all_targets)
    sections = [(DEMO_SECTION_TITLES[kind], targets) for kind, targets in grouped.items() if targets]
    return render(request, "reports/demo.html", {"sections": sections, "already_reported": already})


#: The session's list of held evidence ids (reports.services.evidence_hold): only the session that
#: chose a file may attach it.
HELD_SESSION_KEY = "held_evidence"


def _held_for(request: HttpRequest) -> list[HeldEvidence]:
    """The evidence held from this session's earlier try that the form sends back, less the removed."""
    if request.method != "POST":
        request.session.pop(HELD_SESSION_KEY, None)
        return []
    ours = set(request.session.get(HELD_SESSION_KEY, []))
    removed = set(request.POST.getlist("remove_evidence"))
    wanted = [value for value in request.POST.getlist("held_evidence") if value in ours and value not in removed]
    return selectors.held_evidence(user=request.user, ids=wanted)


def _hold(request: HttpRequest, form: ReportForm, held: list[HeldEvidence]) -> list[HeldEvidence]:
    """The form came back with an error: keep what was newly chosen, checked, for the next try."""
    files = request.FILES.getlist("evidence")
    if not files:
        return held
    if len(files) + len(held) > settings.EVIDENCE_MAX_FILES:
        form.add_error("evidence", attach_at_most())
        return held
    try:
        return held + services.evidence_hold(actor=request.user, files=files)
    except ValidationError as error:
        if "evidence" not in form.errors:
            add_service_errors(form, error)
        return held


@login_required
@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest) -> HttpResponse:
    target = selectors.reportable_target(public_id=request.GET.get("target"))
    own_content = target.owner_id == request.user.pk
    form = ReportForm(request.POST or None, request.FILES or None)
    held = _held_for(request)
    if request.method == "POST" and not own_content and form.is_valid():
        try:
            report = services.report_file(
                actor=request.user,
                target=target,
                category=form.cleaned_data["category"],
                reason=form.cleaned_data["reason"],
                incident_at=form.cleaned_data["incident_at"],
                is_pattern=form.cleaned_data["is_pattern"],
                evidence=form.cleaned_data["evidence"],
                held=held,
                language=request.LANGUAGE_CODE,
            )
        except services.RateLimitExceeded as limited:
            form.add_error(None, limited.message)
        except ValidationError as error:
            add_service_errors(form, error)
            if "evidence" not in form.errors:
                held = _hold(request, form, held)
        else:
            request.session.pop(HELD_SESSION_KEY, None)
            messages.success(request, report_submitted(report))
            return redirect("reports:mine")
    elif request.method == "POST" and not own_content:
        held = _hold(request, form, held)
    if request.method == "POST":
        request.session[HELD_SESSION_KEY] = [str(row.pk) for row in held]
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "reports/new.html",
        {
            "form": form,
            "target": target,
            "own_content": own_content,
            "held": held,
            "category_hints": [(label, CATEGORY_RULES[value].hint) for value, label in Category.choices],
        },
        status=status,
    )


@login_required
def report_mine(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.my_reports(user=request.user), 20).get_page(request.GET.get("page"))
    return render(request, "reports/mine.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def report_detail(request: HttpRequest, report_id: uuid.UUID) -> HttpResponse:
    report = selectors.my_report(user=request.user, report_id=report_id)
    # A moderator's questions, each answerable here once (POST: the answer to one of them).
    infos = list(report.info_requests.all())
    posted = InfoAnswerForm(request.POST) if request.method == "POST" else None
    if posted is not None and posted.is_valid():
        if posted.cleaned_data["info_request"] not in {info.pk for info in infos}:
            raise Http404(_("No such question"))
        try:
            services.info_request_answer(
                actor=request.user,
                info_request_id=posted.cleaned_data["info_request"],
                answer=posted.cleaned_data["answer"],
            )
        except InfoRequest.DoesNotExist:
            raise Http404(_("No such question")) from None
        except ValidationError as error:
            # Already answered, or the report closed meanwhile: the form is gone, so say it on top.
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Thank you: your answer was sent to the moderators."))
            return redirect("reports:detail", report.pk)
    questions = []
    for info in infos:
        mine = posted is not None and str(info.pk) == request.POST.get("info_request")
        questions.append((info, posted if mine else InfoAnswerForm(initial={"info_request": info.pk})))
    status = 400 if posted is not None else 200
    context = {
        "report": report,
        "questions": questions,
        "appeal": hooks.enforcement().report_appeal(report) if report.status == ReportStatus.DISMISSED else None,
        "appeal_days": settings.APPEAL_WINDOW_DAYS,
    }
    return render(request, "reports/detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
def complaint(request: HttpRequest) -> HttpResponse:
    form = ComplaintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = services.complaint_file(
                name=data["name"],
                email=data["email"],
                content_kind=data["content_kind"],
                location=data["location"],
                description=data["description"],
                category=data["category"],
                good_faith=data["good_faith"],
                client_address=throttle.client_ip(request),
                language=request.LANGUAGE_CODE,
            )
        except services.RateLimitExceeded as limited:
            form.add_error(None, limited.message)
            return render(request, "reports/complaint.html", {"form": form}, status=429)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            # POST, redirect, GET: a refresh of the thank-you page sends nothing again. The session
            # (anonymous ones too) remembers which complaint it thanks for; nobody else can open it.
            request.session[COMPLAINT_SESSION_KEY] = str(report.pk)
            return redirect("reports:complaint_received")
    status = 400 if request.method == "POST" else 200
    return render(request, "reports/complaint.html", {"form": form}, status=status)


#: The complaint this session just sent, for its thank-you page.
COMPLAINT_SESSION_KEY = "complaint_received"


def complaint_received(request: HttpRequest) -> HttpResponse:
    report = selectors.complaint_received(report_id=request.session.get(COMPLAINT_SESSION_KEY))
    if report is None:
        return redirect("reports:complaint")
    return render(request, "reports/complaint_done.html", {"report": report, "due": long_date(report.due_at)})
