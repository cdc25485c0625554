"""Pages for enforcement: the decision form, a sanction's page (lift, approve a referral), the
appeals queue and decisions; and for users, their notices, their restrictions and appeals."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config.i18n import in_sentence
from moderation import presence
from moderation.enforcement import selectors, services, wording
from moderation.enforcement.actions import ActionKind
from moderation.enforcement.filters import AppealFilterSet
from moderation.enforcement.forms import (
    DURATION_CHOICES,
    AppealDecisionForm,
    AppealForm,
    DecisionForm,
    ReasonForm,
    ReferralApprovalForm,
)
from moderation.enforcement.models import Appeal, NoticeKind, Sanction
from moderation.enforcement.notices import read_appeal_token, read_complaint_appeal_token
from moderation.files import protected_file_response
from moderation.filters import queue_view, with_view
from moderation.services import TransitionRefused
from reports.forms import add_service_errors
from reports.models import Report, ReportStatus
from reports.selectors import my_report


def _report_page(request: HttpRequest, report: Report) -> HttpResponse:
    """Back to the report's page, in the queue view the moderator came from (moderation/filters.py)."""
    return redirect(with_view(reverse("moderation:report", args=[report.pk]), queue_view(request.GET)))


@login_required
@permission_required("reports.review_report", raise_exception=True)
@require_http_methods(["GET", "POST"])
def decide(request: HttpRequest, report_id: uuid.UUID) -> HttpResponse:
    report = selectors.report_for_decision(report_id=report_id)
    # The ladder's step as this person's role may apply it; what only compliance may apply is named.
    proposal = selectors.decision_proposal(report=report, user=request.user)
    duration = DecisionForm.initial_duration(proposal.duration)
    # A proposed action that something in force already covers would change nothing: not
    # pre-selected, and the page says why (a suspension proposed to an account already terminated).
    proposal_in_force = selectors.proposal_in_force(report=report, proposal=proposal)
    covered = {item.kind for item in proposal_in_force}
    form = DecisionForm(
        request.POST or None,
        user=request.user,
        target_kind=report.target.kind,
        initial={"actions": [kind for kind in proposal.kinds if kind not in covered], **duration},
    )
    go_ahead = request.POST.get("go_ahead", "")
    busy = []
    if request.method == "POST" and form.is_valid():
        busy = presence.not_yet_confirmed(report_id=report.pk, user=request.user, go_ahead=go_ahead)
    if busy:
        # Someone else is mid-way on this report: say who, keep what was typed, go ahead next time.
        form.add_error(None, presence.refusal(busy))
        go_ahead = ",".join(part for part in (go_ahead, presence.go_ahead_value(busy)) if part)
    elif request.method == "POST" and form.is_valid():
        try:
            sanctions = services.decision_apply(
                actor=request.user,
                report_id=report.pk,
                actions=form.action_requests(),
                ground_type=form.cleaned_data["ground_type"],
                ground=form.cleaned_data["ground"],
                facts=form.cleaned_data["facts"],
                automated=form.cleaned_data["automated"],
                apply_to_all_open=form.cleaned_data["apply_to_all_open"],
                ladder_override_reason=form.cleaned_data["ladder_override_reason"],
                confirm_unchanged=form.cleaned_data["confirm_unchanged"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except (PermissionDenied, TransitionRefused) as error:
            form.add_error(None, str(error))
        else:
            names = ", ".join(in_sentence(s.get_kind_display(), noun=True) for s in sanctions)
            messages.success(request, _("Decision recorded: %(actions)s. The report is resolved.") % {"actions": names})
            presence.leave(report_id=report.pk, user=request.user)
            return _report_page(request, report)
    presence.beat(report_id=report.pk, user=request.user, doing=presence.DECIDING)
    return render(
        request,
        "enforcement/decide.html",
        {
            "report": report,
            "form": form,
            "proposal": proposal,
            "proposed_labels": [ActionKind(kind).label for kind in proposal.kinds],
            "proposed_duration": dict(DURATION_CHOICES).get(duration.get("duration"), ""),
            "beyond_role_labels": [ActionKind(kind).label for kind in proposal.beyond_role],
            # "warn and suspend": the labels in a sentence, joined as the page's language joins them.
            "beyond_role_text": get_text_list(
                [in_sentence(ActionKind(kind).label, noun=True) for kind in proposal.beyond_role], _("and")
            ),
            "proposal_in_force": proposal_in_force,
            "record": selectors.account_record(account=report.target.owner, target=report.target),
            "open_on_target": selectors.open_reports_on_target_count(report=report),
            "view_suffix": with_view("", queue_view(request.GET)),
            "presence_line": presence.describe(presence.others_on(report_id=report.pk, user=request.user)),
            "presence_interval": presence.heartbeat_seconds(),
            "go_ahead": go_ahead,
        },
        status=409 if busy else 400 if request.method == "POST" else 200,
    )


def _render_sanction(
    request: HttpRequest,
    sanction: Sanction,
    *,
    lift_form: ReasonForm | None = None,
    approve_form: ReferralApprovalForm | None = None,
    status: int = 200,
) -> HttpResponse:
    bound = lift_form if lift_form is not None and lift_form.errors else approve_form
    return render(
        request,
        "enforcement/sanction_detail.html",
        {
            "sanction": sanction,
            "lift_form": lift_form or ReasonForm(),
            "approve_form": approve_form or ReferralApprovalForm(),
            # After a failed submit the page opens on that form's error summary.
            "error_form": bound if bound is not None and bound.errors else None,
            "may_approve": request.user.has_perm("enforcement.approve_referral")
            and sanction.may_be_approved_by(request.user),
        },
        status=status,
    )


@login_required
@permission_required("reports.view_queue", raise_exception=True)
def sanction_detail(request: HttpRequest, sanction_id: uuid.UUID) -> HttpResponse:
    return _render_sanction(request, selectors.sanction_detail(sanction_id=sanction_id))


@login_required
@require_POST
def sanction_lift(request: HttpRequest, sanction_id: uuid.UUID) -> HttpResponse:
    if not request.user.has_perm("enforcement.lift_sanction"):
        raise PermissionDenied
    sanction = selectors.sanction_detail(sanction_id=sanction_id)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.sanction_lift(actor=request.user, sanction_id=sanction.pk, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(action)s lifted.") % {"action": sanction.get_kind_display()})
            return redirect("enforcement:sanction", sanction.pk)
    return _render_sanction(request, sanction, lift_form=form, status=400)


@login_required
@require_POST
def referral_approve(request: HttpRequest, sanction_id: uuid.UUID) -> HttpResponse:
    if not request.user.has_perm("enforcement.approve_referral"):
        raise PermissionDenied
    sanction = selectors.sanction_detail(sanction_id=sanction_id)
    form = ReferralApprovalForm(request.POST)
    if form.is_valid():
        try:
            services.referral_approve(
                actor=request.user, sanction_id=sanction.pk, reference=form.cleaned_data["reference"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Referral approved; it now counts."))
            return redirect("enforcement:sanction", sanction.pk)
    return _render_sanction(request, sanction, approve_form=form, status=400)


@login_required
@permission_required("enforcement.decide_appeal", raise_exception=True)
def appeals_queue(request: HttpRequest) -> HttpResponse:
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = "pending"
    filterset = AppealFilterSet(data, queryset=selectors.appeals_queue())
    page = Paginator(filterset.qs, 25).get_page(request.GET.get("page"))
    query = data.copy()
    query.pop("page", None)
    return render(
        request,
        "enforcement/appeals.html",
        {
            "filterset": filterset,
            "page": page,
            "querystring": query.urlencode(),
            "counts": selectors.appeal_counts(),
            "now": timezone.now(),
        },
    )


@login_required
@permission_required("enforcement.decide_appeal", raise_exception=True)
@require_http_methods(["GET", "POST"])
def appeal_detail(request: HttpRequest, appeal_id: uuid.UUID) -> HttpResponse:
    appeal = selectors.appeal_detail(appeal_id=appeal_id)
    form = AppealDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.appeal_decide(
                actor=request.user,
                appeal_id=appeal.pk,
                outcome=form.cleaned_data["outcome"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Appeal decided; the appellant has been told."))
            return redirect("enforcement:appeal", appeal.pk)
    return render(
        request,
        "enforcement/appeal_detail.html",
        {
            "appeal": appeal,
            "form": form,
            "may_decide": appeal.may_be_decided_by(request.user),
            **selectors.appeal_subject(appeal=appeal),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@permission_required("enforcement.decide_appeal", raise_exception=True)
def appeal_attachment(request: HttpRequest, appeal_id: uuid.UUID) -> FileResponse:
    """The file an appellant attached, for those who decide appeals (checked like evidence)."""
    appeal = selectors.appeal_attachment(appeal_id=appeal_id)
    return protected_file_response(
        appeal.attachment,
        content_type=appeal.attachment_content_type,
        filename=appeal.attachment_name or "appeal-attachment",
        download="download" in request.GET,
    )


# --- the affected user's side -------------------------------------------------------------------


@login_required
def my_notices(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.my_notices(user=request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "enforcement/my_notices.html",
        {
            "page": page,
            "restrictions": [
                wording.what_happened(sanction, exact=True) for sanction in selectors.my_restrictions(user=request.user)
            ],
        },
    )


def _appeal_from_form(request: HttpRequest, form: AppealForm, file_appeal: Callable[..., Appeal]) -> Appeal | None:
    """File the appeal a valid form holds; what the service refuses goes back onto the form."""
    try:
        appeal = file_appeal(text=form.cleaned_data["text"], attachment=form.cleaned_data["attachment"])
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    messages.success(request, _("Appeal sent. Someone who did not take the decision will review it."))
    return appeal


def _appeal_form_response(
    request: HttpRequest, *, account, sanction: Sanction, template: str, context: dict
) -> HttpResponse:
    already = sanction.appeals.filter(appellant=account).first()
    open_window = selectors.appeal_window_open(decided_at=sanction.decided_at)
    form = AppealForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and not already and form.is_valid():
        already = _appeal_from_form(
            request, form, partial(services.appeal_file, actor=account, sanction_id=sanction.pk)
        )
        form = None if already else form
    return render(
        request,
        template,
        {
            **context,
            "sanction": sanction,
            "form": form,
            "appeal": already,
            "window_open": open_window,
            "appeal_section": True,
        },
        status=400 if request.method == "POST" and form is not None and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def my_notice(request: HttpRequest, notice_id: uuid.UUID) -> HttpResponse:
    notice = selectors.my_notice(user=request.user, notice_id=notice_id)
    if notice.read_at is None:
        services.notice_read(actor=request.user, notice_id=notice.pk)
    context = {"notice": notice, **selectors.notice_page(notice=notice)}
    # A statement of reasons is where its decision is appealed; other notices only tell.
    appealable = notice.kind == NoticeKind.STATEMENT_OF_REASONS and notice.sanction_id
    if not appealable or notice.sanction.account_id != request.user.pk:
        return render(request, "enforcement/notice_detail.html", context)
    return _appeal_form_response(
        request,
        account=request.user,
        sanction=notice.sanction,
        template="enforcement/notice_detail.html",
        context=context,
    )


@require_http_methods(["GET", "POST"])
def appeal_link(request: HttpRequest, token: str) -> HttpResponse:
    """For an account that cannot sign in (suspended, terminated): the signed link from its notice."""
    try:
        claims = read_appeal_token(token)
    except signing.BadSignature:
        raise Http404("This appeal link is not valid or has expired.") from None
    sanction = Sanction.objects.filter(pk=claims["sanction"], account_id=claims["account"]).first()
    if sanction is None:
        raise Http404("No such decision")
    account = get_user_model().objects.get(pk=claims["account"])
    # The statement of reasons of the decision this sanction belongs to, whichever sanction of it the
    # link names (the sign-in block names the suspension; the statement may be filed under the
    # removal decided with it), and never a later notice about it (an appeal's decision, a lift).
    notice = selectors.statement_notice(account=account, decision_id=sanction.decision_id)
    context = {"notice": notice, "via_link": True, **(selectors.notice_page(notice=notice) if notice else {})}
    if notice is not None and notice.read_at is None:
        services.notice_read(actor=account, notice_id=notice.pk)  # holding the signed link is the account's proof
    return _appeal_form_response(
        request, account=account, sanction=sanction, template="enforcement/notice_detail.html", context=context
    )


@require_http_methods(["GET", "POST"])
def complaint_appeal(request: HttpRequest, token: str) -> HttpResponse:
    """For someone who sent a complaint without an account: the signed link from the outcome mail
    of a dismissal, to appeal it and, later, to read how the appeal went."""
    try:
        claims = read_complaint_appeal_token(token)
    except signing.BadSignature:
        raise Http404("This appeal link is not valid or has expired.") from None
    report = selectors.complaint_from(report_id=claims["report"], email=claims["email"])
    if report is None:
        raise Http404("No such complaint")
    appeal = Appeal.objects.filter(report=report, appellant__isnull=True).first()
    form = AppealForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and appeal is None and form.is_valid():
        file_appeal = partial(services.complaint_appeal_file, report_id=report.pk, email=claims["email"])
        appeal = _appeal_from_form(request, form, file_appeal)
        form = None if appeal else form
    return render(
        request,
        "enforcement/complaint_appeal.html",
        {
            "report": report,
            "appeal": appeal,
            "form": form,
            "dismissed": report.status == ReportStatus.DISMISSED,
            "window_open": selectors.appeal_window_open(decided_at=selectors.dismissal_decided_at(report)),
        },
        status=400 if request.method == "POST" and form is not None and form.errors else 200,
    )


@login_required
@require_POST
def report_appeal(request: HttpRequest, report_id: uuid.UUID) -> HttpResponse:
    """A reporter appeals the dismissal of their own report, from the report's page."""
    report: Report = my_report(user=request.user, report_id=report_id)
    form = AppealForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.appeal_file(
                actor=request.user,
                report_id=report.pk,
                text=form.cleaned_data["text"],
                attachment=form.cleaned_data["attachment"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Appeal sent. Someone who did not take the decision will review it."))
    else:
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
    return redirect("reports:detail", report.pk)


@login_required
@permission_required("reports.view_queue", raise_exception=True)
def account_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    return render(
        request,
        "enforcement/account_detail.html",
        {
            **selectors.account_overview(user_id=user_id, with_history=request.user.has_perm("audit.view_auditevent")),
            "reason_form": ReasonForm(),
        },
    )


@login_required
@permission_required("reports.view_queue", raise_exception=True)  # 403 before any lookup: no existence oracle
@require_POST
def account_flag(request: HttpRequest, user_id: int) -> HttpResponse:
    """Set or clear an account's trusted-flagger mark or legal hold (rights checked by the services)."""
    account = selectors.account_overview(user_id=user_id)["account"]
    form = ReasonForm(request.POST)
    flag, value = request.POST.get("flag"), request.POST.get("value") == "on"
    if not form.is_valid():
        messages.error(request, _("Say why."))
    else:
        try:
            if flag == "trusted_flagger":
                services.trusted_flagger_set(
                    actor=request.user, account=account, trusted=value, reason=form.cleaned_data["reason"]
                )
            elif flag == "legal_hold":
                services.legal_hold_set(
                    actor=request.user, account=account, hold=value, reason=form.cleaned_data["reason"]
                )
            else:
                raise Http404("Unknown flag")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Saved."))
    return redirect("enforcement:account", account.pk)


@login_required
@permission_required("reports.view_queue", raise_exception=True)  # 403 before any lookup: no existence oracle
@require_POST
def mark_unfounded(request: HttpRequest, report_id: uuid.UUID) -> HttpResponse:
    report = selectors.report_for_decision(report_id=report_id)
    try:
        services.report_mark_unfounded(actor=request.user, report_id=report.pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Marked as manifestly unfounded."))
    return _report_page(request, report)


@login_required
@permission_required("reports.view_queue", raise_exception=True)  # 403 before any lookup: no existence oracle
@require_POST
def report_hold(request: HttpRequest, report_id: uuid.UUID) -> HttpResponse:
    report = selectors.report_for_decision(report_id=report_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why."))
    else:
        try:
            services.legal_hold_set(
                actor=request.user,
                report_id=report.pk,
                hold=request.POST.get("value") == "on",
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Legal hold saved."))
    return _report_page(request, report)
