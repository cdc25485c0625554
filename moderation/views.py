from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
@permission_required("reports.view_queue", raise_exception=True)
def queue(request: HttpRequest) -> HttpResponse:
    return render(request, "moderation/queue.html", {})
