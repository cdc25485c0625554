"""The moderator's queue and report page. Thin: parse the request, call a selector or a service,
render. Every write goes through moderation.services (one transaction with its audit event)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from config.i18n import in_sentence
from moderation import presence, selectors, services, workflow
from moderation.files import protected_file_response
from moderation.filters import (
    ALL,
    SORT_CHOICES,
    STATUS_CHOICES,
    ReportQueueFilterSet,
    describe_view,
    queue_view,
    view_query,
    with_view,
)
from moderation.forms import (
    PAGE_SIZES,
    AssignForm,
    BulkForm,
    NoteForm,
    QuestionForm,
    QueueDisplayForm,
    ReasonForm,
    ReviewForm,
)
from reports import selectors as reports_selectors
from reports import services as reports_services
from reports.forms import ComplaintLinkForm, add_service_errors
from reports.models import OPEN_STATUSES, Report, ReportStatus

PARTIAL_HEADER = "X-Queue-Partial"


# --- the queue ----------------------------------------------------------------------------------


def _with(query: QueryDict, **changes: str | None) -> str:
    changed = query.copy()
    for key, value in changes.items():
        if value is None:
            changed.pop(key, None)
        else:
            changed[key] = value
    return changed.urlencode()


def _queue_filterset(request: HttpRequest, data: QueryDict, staff: list, queryset=None) -> ReportQueueFilterSet:
    return ReportQueueFilterSet(
        data, queryset=queryset if queryset is not None else Report.objects.all(), request=request, staff=staff
    )


@login_required
@permission_required("reports.view_queue", raise_exception=True)
def queue(request: HttpRequest) -> HttpResponse:
    # Taken before the rows are read: a bulk action skips what changed after it (never a silent overwrite).
    seen_at = timezone.now()
    staff = selectors.staff_members()
    filterset = _queue_filterset(request, request.GET, staff, selectors.queue_reports())
    display = QueueDisplayForm(request.GET)
    per_page, grouped = display.values()
    if grouped:
        keys, fetch = selectors.group_by_target(filterset.qs, sort=filterset.current_sort), selectors.grouped_rows
    else:
        keys, fetch = filterset.qs.values_list("pk", flat=True), selectors.queue_rows
    page = selectors.QueuePaginator(keys, per_page, fetch=fetch).get_page(request.GET.get("page"))
    page.object_list = selectors.with_deadlines(page.object_list)

    query = view_query(filterset, request.GET)
    # A report opened from here carries the view, its page included, in its link: the report
    # page's "← Queue", "Next report" and "Save and take next" work in this same view.
    here = query.copy()
    if page.number > 1:
        here["page"] = str(page.number)
    # The counts per status answer "how many under the other filters", so the status is lifted.
    # Under a text search the closed statuses are not counted: their trigram matches are the whole
    # history (45 ms of a 110 ms page at a million reports); their tab counts when it is opened.
    searching = bool(filterset.form.cleaned_data.get("q")) if filterset.form.is_valid() else False
    counts = selectors.status_counts(
        filterset.queryset_without("status"), statuses=OPEN_STATUSES if searching else ReportStatus.values
    )
    if not grouped:
        # The tab being shown counts exactly what the page summary counts (up to its larger cap).
        counts[filterset.current_status] = page.paginator.tally
    context = {
        "filterset": filterset,
        "active_filters": sum(
            1
            for name in filterset.base_filters
            if name not in ("status", "sort", "q") and filterset.data.get(name) not in (None, "")
        ),
        "display": display,
        "page": page,
        "grouped": grouped,
        "per_page": per_page,
        "page_sizes": PAGE_SIZES,
        "counts": counts,
        "query": query.urlencode(),
        "report_query": here.urlencode(),
        "status_tabs": [
            (value, label, counts.get(value), _with(query, status=value, page=None)) for value, label in STATUS_CHOICES
        ],
        "current_status": filterset.current_status,
        "sort_links": [(value, label, _with(query, sort=value, page=None)) for value, label in SORT_CHOICES],
        "current_sort": filterset.current_sort,
        "current_sort_label": dict(SORT_CHOICES)[filterset.current_sort],
        "group_toggle": _with(query, group=None if grouped else "1", page=None),
        "page_size_links": [(size, _with(query, per_page=str(size), page=None)) for size in PAGE_SIZES],
        "bulk_form": BulkForm(staff=staff, initial={"query": query.urlencode()}),
        "seen_at": seen_at.isoformat(),
        # The one live sentence (the results themselves are not a live region: re-reading a table
        # on every filter change is noise).
        "status_message": _status_message(
            page,
            status_label=""
            if filterset.current_status == ALL
            else in_sentence(dict(STATUS_CHOICES)[filterset.current_status]),
            grouped=grouped,
        ),
        "poll_seconds": settings.QUEUE_POLL_SECONDS,
        "staff": staff,
        # Once here rather than once per row in the template.
        "can_review": request.user.has_perm("reports.review_report"),
    }
    if request.headers.get(PARTIAL_HEADER):
        response = render(request, "moderation/_queue_results.html", context, using="jinja2")
    else:
        response = render(request, "moderation/queue.html", context)
    patch_vary_headers(response, (PARTIAL_HEADER,))
    return response


def _status_message(page, *, status_label: str, grouped: bool) -> str:
    """The queue's one live sentence after the results change: "Showing 25 of 312 open reports"."""
    count = page.paginator.count
    # "open reports", or just "reports" for any status. The status is an adjective here ("open"), so it
    # is one of the sentence's values; each whole sentence is translated.
    shown = {"shown": intcomma(len(page.object_list)), "total": page.paginator.tally, "status": status_label}
    if not count:
        return _("No %(status)s reports match.") % shown if status_label else _("No reports match.")
    if grouped and status_label:
        sentence = ngettext(
            "Showing %(shown)s of %(total)s %(status)s target.",
            "Showing %(shown)s of %(total)s %(status)s targets.",
            count,
        )
    elif grouped:
        sentence = ngettext("Showing %(shown)s of %(total)s target.", "Showing %(shown)s of %(total)s targets.", count)
    elif status_label:
        sentence = ngettext(
            "Showing %(shown)s of %(total)s %(status)s report.",
            "Showing %(shown)s of %(total)s %(status)s reports.",
            count,
        )
    else:
        sentence = ngettext("Showing %(shown)s of %(total)s report.", "Showing %(shown)s of %(total)s reports.", count)
    return sentence % shown


@login_required
@permission_required("reports.view_queue", raise_exception=True)
def new_reports(request: HttpRequest) -> JsonResponse:
    """How many reports arrived in a queue view since its page was rendered: the queue polls this
    every QUEUE_POLL_SECONDS (static/js/queue.js) for its "3 new — show" notice. The view comes in
    the query string, read by the queue's own FilterSet; `since` is the page's `seen_at`."""
    try:
        since = datetime.fromisoformat(request.GET.get("since", ""))
    except ValueError:
        return JsonResponse({"detail": "since must be an ISO 8601 time (the page's data-since)."}, status=400)
    if timezone.is_naive(since):
        since = timezone.make_aware(since)
    view = queue_view(request.GET)
    view.pop("page", None)
    filterset = _queue_filterset(request, view, selectors.staff_members())
    arrived = selectors.arrived_since(filterset.qs, since=since)
    sentence = ngettext(
        "%(label)s new report in this view", "%(label)s new reports in this view", 2 if arrived.more else arrived.count
    ) % {"label": str(arrived)}
    return JsonResponse({"new": arrived.count, "more": arrived.more, "label": str(arrived), "sentence": sentence})


def _queue_url(query: str) -> str:
    # Parsed and encoded again: the posted string comes back in a Location header.
    query = QueryDict(query).urlencode()
    return reverse("moderation:queue") + (f"?{query}" if query else "")


_BULK_DONE = {
    "assign_me": gettext_lazy("Assigned to you"),
    "assign": gettext_lazy("Assigned"),
    "unassign": gettext_lazy("Unassigned"),
    "reviewed": gettext_lazy("Marked reviewed"),
    "resolved": gettext_lazy("Resolved"),
    "dismissed": gettext_lazy("Dismissed"),
}


def _reports(count: int) -> str:
    return ngettext("%(count)s report", "%(count)s reports", count) % {"count": count}


@login_required
@permission_required("reports.review_report", raise_exception=True)
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    staff = selectors.staff_members()
    form = BulkForm(request.POST, staff=staff)
    query = request.POST.get("query", "")[:2000]
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_queue_url(query))
    ids = form.cleaned_data["ids"]
    shown = QueryDict(query)
    if QueueDisplayForm(shown).values()[1]:
        # A grouped row stands for every report of its target that the queue's filters select.
        ids = selectors.group_members(_queue_filterset(request, shown, staff).qs, lead_ids=ids)
    try:
        result = services.reports_bulk(
            actor=request.user,
            report_ids=ids,
            action=form.cleaned_data["action"],
            note=form.cleaned_data["note"],
            assignee=form.chosen_assignee,
            seen_at=form.cleaned_data["seen_at"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_queue_url(query))
    action = form.cleaned_data["action"]
    if result.done:
        messages.success(
            request,
            _("%(done)s: %(reports)s (batch %(batch)s, one audit event each).")
            % {
                "done": _BULK_DONE[action],
                "reports": _reports(len(result.done)),
                "batch": str(result.correlation_id)[:8],
            },
        )
    if result.skipped:
        reasons = sorted(set(result.skipped.values()))
        messages.warning(
            request,
            _("Skipped %(reports)s: %(reasons)s")
            % {"reports": _reports(len(result.skipped)), "reasons": " ".join(reasons[:3])},
        )
    return redirect(_queue_url(query))


@login_required
@permission_required("reports.review_report", raise_exception=True)
@require_POST
def next_report(request: HttpRequest) -> HttpResponse:
    """Pull the most urgent unassigned open report within the moderator's view and take it. The view
    comes in the query string of the form's action (the queue page's, or the one a report page carries)."""
    return _take_next(request, view=queue_view(request.GET))


def _take_next(request: HttpRequest, *, view: QueryDict) -> HttpResponse:
    """Claim the next report of `view` and open it, still carrying the view."""
    shown = view.copy()
    # Whoever it is assigned to and whatever status tab is open, "next" means open and unassigned.
    for key in ("assignee", "status", "page"):
        shown.pop(key, None)
    filterset = _queue_filterset(request, shown, selectors.staff_members())
    report = services.report_claim_next(actor=request.user, base=filterset.qs)
    described = describe_view(filterset)
    if report is None:
        messages.info(
            request,
            f"No unassigned open report in this view ({described}). Clear the filters to look further."
            if described
            else "No unassigned open report is waiting.",
        )
        return redirect(with_view(reverse("moderation:queue"), view))
    messages.success(
        request,
        f"Report {report.short_id} is yours: the most urgent unassigned report in your view"
        + (f" ({described})." if described else "."),
    )
    return redirect(with_view(reverse("moderation:report", args=[report.pk]), view))


# --- one report ---------------------------------------------------------------------------------


# The report page's reason forms: the empty ones on the page and the bound ones sent back with errors.
REASON_FORMS: dict[str, dict[str, str]] = {
    "escalate_form": {
        "label": gettext_lazy("Why does it need compliance review?"),
        "placeholder": gettext_lazy("e.g. possible criminal offence"),
    },
    "deescalate_form": {"label": gettext_lazy("Why is compliance review no longer needed?")},
    "reopen_form": {"label": gettext_lazy("Why reopen it?")},
}


def _report_forms(report: Report, staff: list, others_open: int) -> dict[str, object]:
    return {
        "review_form": ReviewForm(current_status=report.status, others_open=others_open),
        "assign_form": AssignForm(staff=staff, current=report.assignee_id),
        "note_form": NoteForm(),
        "question_form": QuestionForm(),
        "link_form": ComplaintLinkForm(),
        **{name: ReasonForm(**options) for name, options in REASON_FORMS.items()},
    }


def _render_report(
    request: HttpRequest,
    report: Report,
    *,
    bound: dict[str, object] | None = None,
    status: int = 200,
    doing: str = presence.VIEWING,
    go_ahead: str = "",
) -> HttpResponse:
    staff = selectors.staff_members()
    context = selectors.report_page(report=report, user=request.user)
    view = queue_view(request.GET)
    # Loading the page counts as a heartbeat (seen even without JavaScript); the page shows who else is here.
    presence.beat(report_id=report.pk, user=request.user, doing=doing)
    others = presence.others_on(report_id=report.pk, user=request.user)
    forms = _report_forms(report, staff, context["others_open_count"])
    forms.update(bound or {})
    return render(
        request,
        "moderation/report.html",
        {
            **context,
            **forms,
            "report": report,
            "is_open": report.is_open,
            "assigned_to_me": report.assignee_id == request.user.pk,
            "me_in_staff": any(member.pk == request.user.pk for member in staff),
            # The queue view this report was opened from, carried by every link and form action.
            "view_suffix": with_view("", view),
            "view_description": describe_view(_queue_filterset(request, view, staff)) if view else "",
            # After a failed submit, the page opens on a summary of that form's errors.
            "error_form": next((form for form in (bound or {}).values() if getattr(form, "errors", None)), None),
            "presence_line": presence.describe(others),
            "presence_interval": presence.heartbeat_seconds(),
            "go_ahead": go_ahead,
        },
        status=status,
    )


def _staff_report(request: HttpRequest, report_id: uuid.UUID | str) -> Report:
    return selectors.report_for_staff(user=request.user, report_id=report_id)


def report_action(permission: str) -> Callable:
    """A POST on one report: 404 for who may not see it, 403 for who may see but not do this."""

    def decorator(view: Callable) -> Callable:
        @login_required
        @require_POST
        @wraps(view)
        def wrapper(request: HttpRequest, report_id: uuid.UUID) -> HttpResponse:
            report = _staff_report(request, report_id)
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, report)

        return wrapper

    return decorator


@login_required
def report_detail(request: HttpRequest, report_id: str) -> HttpResponse:
    return _render_report(request, _staff_report(request, report_id))


def _back(request: HttpRequest, report: Report) -> HttpResponse:
    """Back to the report page, in the queue view the action was taken from."""
    return redirect(with_view(reverse("moderation:report", args=[report.pk]), queue_view(request.GET)))


def _refused(request: HttpRequest, report: Report, refused: services.TransitionRefused, **bound) -> HttpResponse:
    """Someone else acted first: say who, and show the report as it is now (409, never a silent overwrite)."""
    messages.error(request, str(refused))
    return _render_report(request, _staff_report(request, report.pk), bound=bound, status=409)


@report_action("reports.review_report")
def report_review(request: HttpRequest, report: Report) -> HttpResponse:
    # The choices offered are the ones the moderator saw, so that a report moved meanwhile is
    # refused by the service with the name of who moved it, not by the form as "invalid choice".
    seen = request.POST.get("expected_status")
    seen = seen if seen in ReportStatus.values else report.status
    others = selectors.open_reports_on_target(report)
    form = ReviewForm(request.POST, current_status=seen, others_open=len(others))
    if not form.is_valid():
        return _render_report(request, report, bound={"review_form": form}, status=400, doing=presence.REVIEWING)
    go_ahead = request.POST.get("go_ahead", "")
    busy = presence.not_yet_confirmed(report_id=report.pk, user=request.user, go_ahead=go_ahead)
    if busy:
        # Someone else is mid-way: say who, keep every typed word, and go ahead on the next submit.
        form.add_error(None, presence.refusal(busy))
        return _render_report(
            request,
            report,
            bound={"review_form": form},
            status=409,
            doing=presence.REVIEWING,
            go_ahead=",".join(part for part in (go_ahead, presence.go_ahead_value(busy)) if part),
        )
    status, notes = form.cleaned_data["status"], form.cleaned_data["admin_notes"]
    try:
        result = services.report_review_on_target(
            actor=request.user,
            report_id=report.pk,
            status=status,
            admin_notes=notes,
            expected_status=form.cleaned_data["expected_status"],
            apply_to_target=bool(form.cleaned_data.get("apply_to_target") and others),
        )
    except services.TransitionRefused as refused:
        fresh = _staff_report(request, report.pk)
        # The typed words are never lost: back in the review form if it can still take a decision,
        # else in the note form, ready to be kept as a note.
        if workflow.next_statuses(fresh.status):
            return _refused(
                request,
                fresh,
                refused,
                review_form=ReviewForm(current_status=fresh.status, initial={"admin_notes": notes}),
            )
        return _refused(request, fresh, refused, note_form=NoteForm(initial={"body": notes}))
    except ValidationError as error:
        add_service_errors(form, error)
        return _render_report(request, report, bound={"review_form": form}, status=400, doing=presence.REVIEWING)
    presence.leave(report_id=report.pk, user=request.user)
    moved = {"status": in_sentence(ReportStatus(status).label)}
    done = _("Report %(status)s.") % moved
    if result.also:
        done += " " + _("Also %(status)s: %(reports)s on the same target.") % {
            **moved,
            "reports": _reports(len(result.also)),
        }
    if result.left:
        done += " " + _("%(reports)s on it could not take that move and were left as they are.") % {
            "reports": _reports(len(result.left))
        }
    messages.success(request, done)
    if request.POST.get("then") == "next":
        return _take_next(request, view=queue_view(request.GET))
    return _back(request, report)


@report_action("reports.review_report")
def report_assign(request: HttpRequest, report: Report) -> HttpResponse:
    staff = selectors.staff_members()
    form = AssignForm(request.POST, staff=staff)
    if not form.is_valid():
        return _render_report(request, report, bound={"assign_form": form}, status=400)
    assignee = form.chosen
    try:
        services.report_assign(
            actor=request.user,
            report_id=report.pk,
            assignee=assignee,
            expected_assignee_id=form.cleaned_data["expected_assignee"],
        )
    except services.TransitionRefused as refused:
        return _refused(request, report, refused)
    except ValidationError as error:
        add_service_errors(form, error)
        return _render_report(request, report, bound={"assign_form": form}, status=400)
    if assignee is None:
        messages.success(request, _("Unassigned."))
    elif assignee.pk == request.user.pk:
        messages.success(request, _("Assigned to you."))
    else:
        messages.success(request, f"Assigned to {assignee.get_username()}.")
    return _back(request, report)


def _reason_action(
    request: HttpRequest, report: Report, *, form_name: str, call: Callable[[str], object], done: str
) -> HttpResponse:
    form = ReasonForm(request.POST, **REASON_FORMS[form_name])
    if form.is_valid():
        try:
            call(form.cleaned_data["reason"])
        except services.TransitionRefused as refused:
            return _refused(request, report, refused)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done)
            return _back(request, report)
    return _render_report(request, report, bound={form_name: form}, status=400)


@report_action("reports.review_report")
def report_escalate(request: HttpRequest, report: Report) -> HttpResponse:
    return _reason_action(
        request,
        report,
        form_name="escalate_form",
        call=lambda reason: services.report_escalate(actor=request.user, report_id=report.pk, reason=reason),
        done="Escalated to compliance review.",
    )


@report_action("reports.view_escalated")
def report_deescalate(request: HttpRequest, report: Report) -> HttpResponse:
    return _reason_action(
        request,
        report,
        form_name="deescalate_form",
        call=lambda reason: services.report_deescalate(actor=request.user, report_id=report.pk, reason=reason),
        done="Escalation cleared.",
    )


@report_action("reports.reopen_report")
def report_reopen(request: HttpRequest, report: Report) -> HttpResponse:
    return _reason_action(
        request,
        report,
        form_name="reopen_form",
        call=lambda reason: services.report_reopen(actor=request.user, report_id=report.pk, reason=reason),
        done="Reopened: the report is under review again.",
    )


@report_action("reports.review_report")
def report_note(request: HttpRequest, report: Report) -> HttpResponse:
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.report_add_note(actor=request.user, report_id=report.pk, body=form.cleaned_data["body"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Note added."))
            return _back(request, report)
    return _render_report(request, report, bound={"note_form": form}, status=400)


@report_action("reports.review_report")
def report_ask(request: HttpRequest, report: Report) -> HttpResponse:
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            services.report_request_info(
                actor=request.user, report_id=report.pk, question=form.cleaned_data["question"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Question sent. The answer will appear in the timeline."))
            return _back(request, report)
    return _render_report(request, report, bound={"question_form": form}, status=400)


@report_action("reports.review_report")
def complaint_link(request: HttpRequest, report: Report) -> HttpResponse:
    """Link a complaint without an account to the registered content or account it is about."""
    form = ComplaintLinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.non_field_errors()) or _("Check the link's fields."))
        return _back(request, report)
    data = form.cleaned_data
    if data["username"].strip():
        account = get_user_model().objects.filter(username=data["username"].strip()).first()
        target, missing = None, None if account else f"No account is called “{data['username'].strip()}”."
    else:
        account, target = None, reports_selectors.registered_target(kind=data["kind"], external_id=data["external_id"])
        missing = None if target else f"The platform registered no {data['kind'].replace('_', ' ')} with that id."
    if missing:
        messages.error(request, missing)
        return _back(request, report)
    try:
        reports_services.complaint_link(actor=request.user, report_id=report.pk, target=target, account=account)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Complaint linked: actions on it now reach the platform."))
    return _back(request, report)


@login_required
@permission_required("reports.view_queue", raise_exception=True)
@require_POST
def report_presence(request: HttpRequest, report_id: uuid.UUID) -> HttpResponse:
    """The report page's heartbeat (static/js/presence.js): record this person as here, answer who
    else is. Besides the existence of the report (404 otherwise, like every report URL), only the
    cache is touched."""
    if not selectors.report_exists_for_staff(user=request.user, report_id=report_id):
        raise Http404("No such report")
    doing = request.POST.get("doing", presence.VIEWING)
    if doing == "leaving":
        presence.leave(report_id=report_id, user=request.user)
        return HttpResponse(status=204)
    presence.beat(report_id=report_id, user=request.user, doing=doing)
    others = presence.others_on(report_id=report_id, user=request.user)
    return JsonResponse(
        {
            "line": presence.describe(others),
            "others": [{"name": person.username, "doing": person.doing} for person in others],
        }
    )


# --- files --------------------------------------------------------------------------------------


@login_required
def evidence_file(request: HttpRequest, evidence_id: uuid.UUID) -> FileResponse:
    evidence = selectors.evidence_for_staff(user=request.user, evidence_id=evidence_id)
    return protected_file_response(
        evidence.file,
        content_type=evidence.content_type,
        filename=evidence.original_name or f"evidence{evidence.extension}",
        download="download" in request.GET,
    )


@login_required
def target_snapshot(request: HttpRequest, public_id: uuid.UUID) -> FileResponse:
    target = selectors.snapshot_for_staff(user=request.user, public_id=public_id)
    return protected_file_response(
        target.snapshot_file,
        content_type=target.snapshot_content_type,
        filename=f"snapshot-{target.public_id}",
        download="download" in request.GET,
    )
