"""What an uploaded file is, told by its first bytes: never by its name or the type the
client declared, which anyone can forge. Claim evidence and identity documents accept
the same kinds of file (images and PDFs) and ask here."""

from __future__ import annotations

# How many first bytes :func:`sniffed_type` needs.
SNIFF_BYTES = 16

# (magic bytes, offset, content type); WebP (RIFF....WEBP) is checked on its own.
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"%PDF-", 0, "application/pdf"),
)

# Every type :func:`sniffed_type` can answer (and a file is served as).
DOCUMENT_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")


def sniffed_type(head: bytes) -> str | None:
    """The content type a file's first bytes show (JPEG, PNG, WebP, PDF), or None."""
    for magic, offset, content_type in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None
