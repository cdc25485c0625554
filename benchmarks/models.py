from django.conf import settings
from django.db import models


class BaselineRow(models.Model):
    """One row per baseline request: the least a Django view that writes can do."""

    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"baseline row {self.pk}"


class PeerToken(models.Model):
    """DRF's own token table (rest_framework.authtoken's Token, field for field) for the filing
    benchmark's peer, which authenticates with DRF's stock TokenAuthentication. The authtoken app
    itself is not installed: its admin and its table would join the project everywhere."""

    key = models.CharField(max_length=40, primary_key=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, related_name="bench_peer_token", on_delete=models.CASCADE)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"peer token of user {self.user_id}"
