from django.urls import path

from moderation.stories import views

app_name = "stories"

urlpatterns = [
    path("", views.story_queue, name="queue"),
    # str, not uuid: anything that is not a story id answers 404 here, like an unknown one.
    path("<str:story_id>/", views.story_detail, name="story"),
    path("<uuid:story_id>/approve/", views.story_approve, name="approve"),
    path("<uuid:story_id>/reject/", views.story_reject, name="reject"),
    path("<uuid:story_id>/frame/", views.story_frame, name="frame"),
]
