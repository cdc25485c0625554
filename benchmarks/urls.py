from django.urls import path

from benchmarks import peer, views

app_name = "benchmarks"

urlpatterns = [
    path("insert-one", views.insert_one, name="insert-one"),
    path("peer/reports", peer.PeerReportCreate.as_view(), name="peer-reports"),
]
