"""Enforcement's pages, mounted at the site root (config/urls.py): their paths are part of the published
contract (README.md) and stay as they were; the URL names keep the "enforcement" namespace."""

from django.urls import path

from moderation.enforcement import views

app_name = "enforcement"

urlpatterns = [
    path("moderation/reports/<uuid:report_id>/decide/", views.decide, name="decide"),
    path("moderation/reports/<uuid:report_id>/unfounded/", views.mark_unfounded, name="mark_unfounded"),
    path("moderation/reports/<uuid:report_id>/hold/", views.report_hold, name="report_hold"),
    path("moderation/sanctions/<uuid:sanction_id>/", views.sanction_detail, name="sanction"),
    path("moderation/sanctions/<uuid:sanction_id>/lift/", views.sanction_lift, name="lift"),
    path("moderation/sanctions/<uuid:sanction_id>/approve/", views.referral_approve, name="approve_referral"),
    path("moderation/appeals/", views.appeals_queue, name="appeals"),
    path("moderation/appeals/<uuid:appeal_id>/", views.appeal_detail, name="appeal"),
    path("moderation/appeals/<uuid:appeal_id>/attachment/", views.appeal_attachment, name="appeal_attachment"),
    path("moderation/accounts/<int:user_id>/", views.account_detail, name="account"),
    path("moderation/accounts/<int:user_id>/flag/", views.account_flag, name="account_flag"),
    path("account/notices/", views.my_notices, name="notices"),
    path("account/notices/<uuid:notice_id>/", views.my_notice, name="notice"),
    path("appeal/<str:token>/", views.appeal_link, name="appeal_link"),
    path("appeal/complaint/<str:token>/", views.complaint_appeal, name="complaint_appeal"),
    path("report/<uuid:report_id>/appeal/", views.report_appeal, name="report_appeal"),
]
