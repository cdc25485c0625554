"""The pre-publication queue and a story's page. Thin: parse, call a selector or a service, render.

Who sees what, as on the rest of the panel: the queue needs reports.view_queue (others 403, the
anonymous to sign-in); a story's page answers 404 to whoever may not work the queue; deciding
needs reports.review_report (403 for staff without it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from moderation.files import protected_file_response
from moderation.stories import selectors, services
from moderation.stories.forms import StoryRejectForm
from moderation.stories.models import StoryReview, StoryStatus
from reports.forms import add_service_errors

STATUS_TABS = (
    (StoryStatus.PENDING, gettext_lazy("Waiting")),
    (StoryStatus.APPROVED, gettext_lazy("Approved")),
    (StoryStatus.REJECTED, gettext_lazy("Rejected")),
)


@login_required
@permission_required("reports.view_queue", raise_exception=True)
def story_queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", StoryStatus.PENDING)
    if status not in StoryStatus.values:
        status = StoryStatus.PENDING
    page = Paginator(selectors.stories_in(status), selectors.STORIES_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = selectors.with_deadlines(page.object_list)
    counts = selectors.story_counts()
    return render(
        request,
        "stories/queue.html",
        {
            "page": page,
            "status": status,
            "counts": counts,
            "tabs": [(value, label, counts[value]) for value, label in STATUS_TABS],
            "querystring": f"status={status}",
        },
    )


def _render_story(
    request: HttpRequest, story: StoryReview, *, reject_form: StoryRejectForm | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "stories/story.html",
        {
            "story": story,
            "target": story.target,
            "deadline": selectors.deadline_of(story),
            "may_see_frame": selectors.may_see_frame(user=request.user, story=story),
            "may_decide": request.user.has_perm(services.DECIDE_PERMISSION),
            "reject_form": reject_form or StoryRejectForm(),
        },
        status=status,
    )


@login_required
def story_detail(request: HttpRequest, story_id: str) -> HttpResponse:
    return _render_story(request, selectors.story_for_staff(user=request.user, story_id=story_id))


def story_action(view: Callable) -> Callable:
    """A POST on one story: 404 for who may not see it, 403 for who may see but not decide."""

    @login_required
    @require_POST
    @wraps(view)
    def wrapper(request: HttpRequest, story_id: uuid.UUID) -> HttpResponse:
        story = selectors.story_for_staff(user=request.user, story_id=story_id)
        if not request.user.has_perm(services.DECIDE_PERMISSION):
            raise PermissionDenied
        return view(request, story)

    return wrapper


def _decided_first(request: HttpRequest, story: StoryReview, refused: services.StoryAlreadyDecided) -> HttpResponse:
    """Someone decided first: say who and when, and show the story as it is now (409)."""
    messages.error(request, str(refused))
    return _render_story(request, selectors.story_for_staff(user=request.user, story_id=story.pk), status=409)


@story_action
def story_approve(request: HttpRequest, story: StoryReview) -> HttpResponse:
    try:
        services.story_approve(actor=request.user, story_id=story.pk)
    except services.StoryAlreadyDecided as refused:
        return _decided_first(request, story, refused)
    messages.success(
        request, _("Story “%(title)s” approved; the platform may publish it.") % {"title": story.target.title}
    )
    return redirect("stories:queue")


@story_action
def story_reject(request: HttpRequest, story: StoryReview) -> HttpResponse:
    form = StoryRejectForm(request.POST)
    if form.is_valid():
        try:
            services.story_reject(
                actor=request.user,
                story_id=story.pk,
                category=form.cleaned_data["category"],
                explanation=form.cleaned_data["explanation"],
            )
        except services.StoryAlreadyDecided as refused:
            return _decided_first(request, story, refused)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Story “%(title)s” rejected; the platform has been told.") % {"title": story.target.title}
            )
            return redirect("stories:queue")
    return _render_story(request, story, reject_form=form, status=400)


@login_required
def story_frame(request: HttpRequest, story_id: uuid.UUID) -> FileResponse:
    story = selectors.frame_for_staff(user=request.user, story_id=story_id)
    target = story.target
    return protected_file_response(
        target.snapshot_file,
        content_type=target.snapshot_content_type,
        filename=f"story-frame-{story.id}",
        download="download" in request.GET,
    )
