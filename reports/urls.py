from django.urls import path

from reports import account_views, views

app_name = "reports"

urlpatterns = [
    path("demo/", views.demo_platform, name="demo"),
    path("report/new/", views.report_new, name="new"),
    path("report/mine/", views.report_mine, name="mine"),
    path("report/<uuid:report_id>/", views.report_detail, name="detail"),
    path("complaint/", views.complaint, name="complaint"),
    path("complaint/received/", views.complaint_received, name="complaint_received"),
    path("account/", account_views.account, name="account"),
    path("account/tokens/", account_views.token_create, name="token_create"),
    path("account/tokens/<int:token_id>/revoke/", account_views.token_revoke, name="token_revoke"),
]
