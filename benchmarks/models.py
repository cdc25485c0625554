from django.db import models


class BaselineRow(models.Model):
    """One row per baseline request: the least a Django view that writes can do."""

    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"baseline row {self.pk}"
