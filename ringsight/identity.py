"""Personal identifiers: resident-ID checks, keyed hashing and masking.

Resident IDs (公民身份号码, GB 11643-1999) carry an ISO 7064 MOD 11-2 check
character, a birth date and a gender digit. RingSight validates the first,
derives the others when an export omits them, keys persons in the graph by a
keyed hash of the ID (so the key property itself reveals nothing), and shows
masked forms to roles that are not cleared to see personal data.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_RESIDENT_ID_RE = re.compile(r"^\d{17}[\dX]$")


def resident_id_check_char(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("a resident ID body is 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def resident_id_problem(value: str) -> str | None:
    """Say what is wrong with an 18-character resident ID, or None when it is valid.

    The value must already be upper-cased and stripped. Checks the shape, the
    birth date and the check character, in that order.
    """
    if len(value) != 18:
        return f"resident ID must have 18 characters, found {len(value)}"
    if not _RESIDENT_ID_RE.match(value):
        return "resident ID must be 17 digits followed by a digit or X"
    try:
        resident_id_birth_date(value)
    except ValueError:
        return f"resident ID holds an impossible birth date {value[6:14]}"
    expected = resident_id_check_char(value[:17])
    if value[17] != expected:
        return f"resident ID check character is {value[17]}, expected {expected}"
    return None


def resident_id_birth_date(value: str) -> date:
    """The birth date encoded in characters 7–14 of a resident ID."""
    return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def resident_id_gender(value: str) -> str:
    """'M' or 'F' from the 17th character (odd is male)."""
    return "M" if int(value[16]) % 2 == 1 else "F"


def keyed_hash(value: str, key: str) -> str:
    """A stable pseudonymous key for a personal identifier (HMAC-SHA256, 32 hex chars).

    The graph keys persons by this value; without the configured key the
    original ID cannot be recovered or guessed by enumeration.
    """
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]


# Kinds of personal value the graph holds only as pseudonyms (the identity vault holds the clear value).
PSEUDONYM_PREFIX: dict[str, str] = {"patient": "", "card": "card:", "phone": "phone:", "address": "address:"}
"""What is hashed before the value, per kind. Patients keep the bare ID (``Patient.pid`` predates the
others); the prefixes keep a card number and a phone with the same digits from getting the same pseudonym."""


def pseudonym(kind: str, value: str, key: str) -> str:
    """The graph key of a personal value of ``kind`` (patient, card, phone, address) — an HMAC under ``key``.

    ``value`` must already be in the loader's normalised form (upper-case ID,
    digits-only phone, address matching key), so every spelling meets.
    """
    return keyed_hash(PSEUDONYM_PREFIX[kind] + value, key)


def short_pseudonym(kind: str, value: str) -> str:
    """How a pseudonym is shown to people not cleared for personal data: a kind letter and 8 hex characters."""
    letter = {"patient": "P", "card": "C", "phone": "T", "address": "A"}.get(kind, "X")
    return f"{letter}#{value[:8]}"


# --- entity references inside text (detection's evidence sentences) ------------------------------

REF_RE = re.compile(r"\{(patient|card|phone|address):([0-9a-f]{8,64})\}")
"""An entity reference inside an evidence sentence: ``{card:<pseudonym>}``."""


def text_refs(text: str | None) -> list[tuple[str, str]]:
    """The (kind, pseudonym) references in a text; patients as ``patient.name``."""
    return [(_ref_kind(k), p) for k, p in REF_RE.findall(text or "")]


def _ref_kind(kind: str) -> str:
    return "patient.name" if kind == "patient" else kind


def render_text(text: str | None, clear: dict[tuple[str, str], str] | None = None) -> str:
    """An evidence sentence with each ``{kind:pseudonym}`` shown per :func:`display`."""
    if not text:
        return text or ""
    return REF_RE.sub(lambda m: _display(_ref_kind(m.group(1)), m.group(2), clear), text)


def _display(kind: str, pseudonym_: str, clear: dict[tuple[str, str], str] | None) -> str:
    if clear and (kind, pseudonym_) in clear:
        return clear[(kind, pseudonym_)]
    return short_pseudonym(kind.split(".", 1)[0], pseudonym_)


def mask_id(value: str | None) -> str | None:
    """110105199001011234 -> 110105********123X-style: keep region and last four.

    Other ids (a passport, a foreign insurer's member id such as BENE822658)
    keep at most a fifth of their characters at each end, never the whole id.
    """
    if not value:
        return value
    if len(value) <= 8:
        return value[:2] + "*" * (len(value) - 2)
    if len(value) == 18:
        return value[:6] + "*" * (len(value) - 10) + value[-4:]
    keep = max(1, len(value) // 5)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


def mask_name(value: str | None) -> str | None:
    """张三丰 -> 张**; keep the family name only."""
    if not value:
        return value
    return value[0] + "*" * (len(value) - 1)


def mask_phone(value: str | None) -> str | None:
    """13812345678 -> 138****5678; landlines keep their first 4 and last 2."""
    if not value:
        return value
    if len(value) == 11 and value.startswith("1"):
        return value[:3] + "****" + value[-4:]
    if len(value) <= 6:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 6) + value[-2:]


def mask_address(value: str | None) -> str | None:
    """Keep the first 6 characters (district level) and hide the rest."""
    if not value:
        return value
    return value[:6] + "****" if len(value) > 6 else value[:2] + "****"


def mask_card(value: str | None) -> str | None:
    """Card and e-voucher numbers: keep the first 4 and last 4 (of a short one, a fifth at each end)."""
    if not value:
        return value
    if len(value) <= 8:
        return value[:2] + "*" * (len(value) - 2)
    if len(value) < 12:
        keep = max(1, len(value) // 5)
        return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def mask_text(text: str) -> str:
    """Mask resident IDs and mainland mobile numbers wherever they appear inside a string."""
    text = _ID_IN_TEXT.sub(lambda m: mask_id(m.group(0).upper()) or "", text)
    return _MOBILE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)) or "", text)
