from django.urls import path

from benchmarks import views

app_name = "benchmarks"

urlpatterns = [path("insert-one", views.insert_one, name="insert-one")]
