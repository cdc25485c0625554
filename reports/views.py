from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from config import throttle
from reports import hooks, selectors, services
from reports.categories import CATEGORY_RULES, Category
from reports.forms import ComplaintForm, InfoAnswerForm, ReportForm, add_service_errors
from reports.models import InfoRequest, ReportStatus, TargetKind

REPORT_SUBMITTED = "Report submitted -- admins will review it."
DEMO_SECTION_TITLES = {
    TargetKind.MESSAGE: "Chat rooms",
    TargetKind.USER: "Accounts",
    TargetKind.FILE: "Shared files",
    TargetKind.VIDEO_SESSION: "Live video sessions",
    TargetKind.VIDEO_STORY: "Video stories",
    TargetKind.PROFILE: "Profiles",
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


@login_required
@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest) -> HttpResponse:
    target = selectors.reportable_target(public_id=request.GET.get("target"))
    own_content = target.owner_id == request.user.pk
    form = ReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and not own_content and form.is_valid():
        try:
            services.report_file(
                actor=request.user,
                target=target,
                category=form.cleaned_data["category"],
                reason=form.cleaned_data["reason"],
                incident_at=form.cleaned_data["incident_at"],
                is_pattern=form.cleaned_data["is_pattern"],
                evidence=form.cleaned_data["evidence"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, REPORT_SUBMITTED)
            return redirect("reports:mine")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "reports/new.html",
        {
            "form": form,
            "target": target,
            "own_content": own_content,
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
            raise Http404("No such question")
        try:
            services.info_request_answer(
                actor=request.user,
                info_request_id=posted.cleaned_data["info_request"],
                answer=posted.cleaned_data["answer"],
            )
        except InfoRequest.DoesNotExist:
            raise Http404("No such question") from None
        except ValidationError as error:
            # Already answered, or the report closed meanwhile: the form is gone, so say it on top.
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Thank you: your answer was sent to the moderators.")
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
            )
        except services.RateLimitExceeded as limited:
            form.add_error(None, limited.message)
            return render(request, "reports/complaint.html", {"form": form}, status=429)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return render(request, "reports/complaint_done.html", {"report": report})
    status = 400 if request.method == "POST" else 200
    return render(request, "reports/complaint.html", {"form": form}, status=status)
