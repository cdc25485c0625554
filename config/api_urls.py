"""JSON API routes (see DESIGN.md, "Stable contracts"). Every path also accepts a trailing slash."""

urlpatterns: list = []
