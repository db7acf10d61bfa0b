"""File names of a submission's outputs: bounded, safe and never shared by two submissions.

A submission id is whatever name a student's file or folder had: up to 255 bytes,
any characters but ``/`` (newlines, quotes, non-UTF-8 bytes), and names that
differ only by case (``a``, ``A``) or by Unicode normalisation (NFC ``é``, NFD
``e`` + accent) that a case-insensitive or normalising file system (macOS, Windows,
some network shares) would treat as one. Its outputs (``results/<stem>.json``,
``feedback/<stem>.html``, ``errors/<stem>.log``) are named by :func:`file_stem`:

* an id of at most 64 lower-case ASCII letters, digits, ``.``, ``_`` and ``-``
  (starting with a letter or digit) is its own stem: ``alice`` -> ``alice``;
* any other id gets a readable ASCII part (at most 40 characters) and ``~`` and
  16 hex digits of the SHA-256 of its exact bytes: ``José`` -> ``Jose~3f2a...``.

No two ids share a stem on any file system: plain stems hold no ``~`` and no upper
case; hashed stems differ in their hash. The id itself is always inside the file
(``submission`` in the result JSON); nothing reads it back from a file name.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

PLAIN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
READABLE_CHARS = 40
HASH_CHARS = 16


def file_stem(submission: str) -> str:
    """The stem of ``submission``'s output files (see the module's docstring)."""
    if PLAIN.fullmatch(submission):
        return submission
    ascii_text = unicodedata.normalize("NFKD", submission).encode("ascii", "ignore").decode()
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_text).strip("._-")[:READABLE_CHARS]
    digest = hashlib.sha256(submission.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{readable or 'submission'}~{digest[:HASH_CHARS]}"


def printable_id(name: str) -> str:
    """A file name as a submission id that any UTF-8 output can hold: bytes that are not
    UTF-8 (kept by Python as lone surrogates) become ``\\xNN`` escapes."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
