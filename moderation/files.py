"""Serving stored files to staff (evidence, snapshots, appeal attachments): the one response every
permission-checked file view returns, so each is equally safe in the browser."""

from __future__ import annotations

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404

#: Shown inline (the blurred previews); everything else is a download.
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def protected_file_response(file: FieldFile, *, content_type: str, filename: str, download: bool) -> FileResponse:
    """A stored file, never sniffed or run by the browser: images inline (for the blurred
    preview), everything else as a download, in a sandbox either way."""
    try:
        handle = file.open("rb")
    except (FileNotFoundError, OSError, ValueError):  # ValueError: the field holds no file
        raise Http404("No such file") from None
    inline = content_type in INLINE_TYPES and not download
    response = FileResponse(
        handle,
        content_type=content_type if inline else "application/octet-stream",
        as_attachment=not inline,
        filename=filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
