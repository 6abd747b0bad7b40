"""Whether a text document looks binary (issue #26: an ELF executable named ``.txt`` trained
silently). Any bytes are a feature here — a binary file is kept and trained on as it is — but a
user who meant text is told, once per file, and the dataset summary counts them.

A file looks binary when it starts with the magic number of a known binary format, or holds
a NUL byte (no text encoding a user feeds as UTF-8 bytes has one; UTF-16 text does, and is
worth a word too).
"""

from __future__ import annotations

MAGIC = (  # (leading bytes, what the file is)
    (b"\x7fELF", "an ELF executable"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "gzip data"),
    (b"PK\x03\x04", "a zip archive"),
    (b"\xfd7zXZ\x00", "xz data"),
    (b"RIFF", "a RIFF file (WAV, AVI, WebP)"),
    (b"OggS", "an Ogg stream"),
)


def looks_binary(data: bytes) -> str | None:
    """Why ``data`` looks like a binary file (its format, or its NUL bytes), or None."""
    for magic, what in MAGIC:
        if data.startswith(magic):
            return what
    nul = data.count(0)
    return f"{nul:,} NUL bytes in {len(data):,}" if nul else None
