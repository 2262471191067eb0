"""Names in a class folder: LMS export entries, folded names and tokens, junk files."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "is_junk", "parse_lms_name", "slug", "tokens"]

# Moodle 4.1 and later name a student's folder ``Name_123_assignsubmission_file`` (no
# trailing underscore; mod/assign/classes/downloader.php), earlier versions and the flat
# layout ``Name_123_assignsubmission_file_`` + the file name
_LMS_RE = re.compile(
    r"^(?P<name>.+?)_(?P<id>\d+)_assign(?:submission|feedback)_(?P<plugin>[a-z]+)"
    r"(?:_(?P<rest>.*))?$",
    re.DOTALL,
)
_JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
_JUNK_DIRS = {"__macosx", ".ipynb_checkpoints", "__pycache__", ".git"}


def parse_lms_name(entry: str) -> tuple[str, str, str] | None:
    """Split a Moodle export entry ``Name_123_assignsubmission_file_rest`` into parts.

    Returns ``(full name, participant id, rest)``, or None when the name is not
    in that form.
    """
    m = _LMS_RE.match(entry)
    if not m:
        return None
    return m.group("name").strip(), m.group("id"), m.group("rest") or ""


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z@.]+", " ", text.casefold()).strip()


def tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[\s.@]+", fold(text)) if t}


def slug(text: str) -> str:
    folded = re.sub(r"[^0-9a-z]+", "-", fold(text)).strip("-")
    return folded[:60] or "submission"


def is_junk(part: str) -> bool:
    low = part.lower()
    return low in _JUNK_NAMES or low in _JUNK_DIRS or low.startswith("._") or low.startswith("~$")
