"""The baseline the filing API is compared with: a POST that inserts one row and answers 201 JSON.

It goes through the same middleware stack as the API (sessions, CSRF exemption as for token calls,
the security headers), with no authentication, validation, rules or audit event.
"""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from benchmarks.models import BaselineRow


@csrf_exempt
@require_POST
def insert_one(request: HttpRequest) -> JsonResponse:
    row = BaselineRow.objects.create(body=request.body.decode("utf-8", "replace")[:2000])
    return JsonResponse({"id": row.pk}, status=201)
