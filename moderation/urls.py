from django.urls import path

from moderation import views

app_name = "moderation"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("next/", views.next_report, name="next"),
    path("new/", views.new_reports, name="new_reports"),
    path("bulk/", views.bulk, name="bulk"),
    # str, not uuid: links from the audit log are built from stored object ids, which must never
    # break the page that lists them; anything that is not a report id answers 404 here.
    path("reports/<str:report_id>/", views.report_detail, name="report"),
    path("reports/<uuid:report_id>/review/", views.report_review, name="review"),
    path("reports/<uuid:report_id>/presence/", views.report_presence, name="presence"),
    path("reports/<uuid:report_id>/assign/", views.report_assign, name="assign"),
    path("reports/<uuid:report_id>/escalate/", views.report_escalate, name="escalate"),
    path("reports/<uuid:report_id>/deescalate/", views.report_deescalate, name="deescalate"),
    path("reports/<uuid:report_id>/reopen/", views.report_reopen, name="reopen"),
    path("reports/<uuid:report_id>/notes/", views.report_note, name="note"),
    path("reports/<uuid:report_id>/ask/", views.report_ask, name="ask"),
    path("reports/<uuid:report_id>/link/", views.complaint_link, name="complaint_link"),
    path("evidence/<uuid:evidence_id>/", views.evidence_file, name="evidence"),
    path("targets/<uuid:public_id>/snapshot/", views.target_snapshot, name="snapshot"),
]
