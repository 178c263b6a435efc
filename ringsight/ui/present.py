"""How an entity is shown: its one-line label and its property list.

Patients, cards, phones and addresses are keyed in the graph by pseudonyms
and carry no clear personal value; they are labelled by the short pseudonym
(``P#1a2b3c4d``) for every role. Clear values come only from the identity
vault through an audited reveal (``ringsight.cases.identities``). The masks
below remain for records that still carry clear values (a revealed panel
shown to someone not entitled, sample data) and for free text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ringsight.cases.identities import render_text
from ringsight.graph.model import PERSONAL_LABELS as PSEUDONYM_KIND
from ringsight.graph.model import key_of
from ringsight.identity import mask_address, mask_card, mask_id, mask_name, mask_phone, short_pseudonym
from ringsight.ui.session import personal_data_visible


def _mask_birth(value: str | None) -> str | None:
    return value[:4] + "-**-**" if value else value


#: label -> property -> mask applied for sessions that may not see personal data.
PERSONAL: dict[str, dict[str, Callable[[Any], Any]]] = {
    "Patient": {
        "id_raw": mask_id,
        "name": mask_name,
        "person_no": mask_card,
        "birth_date": _mask_birth,
    },
    "Card": {"card_id": mask_card},
    "Phone": {"number": mask_phone},
    "Address": {"text": mask_address, "key": mask_address},
}

#: Properties that are internal plumbing, never shown.
HIDDEN_PROPS = {"content_hash", "load_id", "pid", "surname_group"}

#: Properties shown first, in this order, for each label.
ORDER: dict[str, tuple[str, ...]] = {
    "Patient": ("name", "id_raw", "gender", "birth_date", "person_no", "insurance_type", "id_type"),
    "Card": ("card_id", "card_kind"),
    "Phone": ("number",),
    "Address": ("text", "district"),
    "Facility": ("name", "code", "kind", "level", "ownership", "region"),
    "Doctor": ("name", "code"),
    "Terminal": ("terminal_id", "facility_code"),
    "Operator": ("operator_id", "facility_code"),
    "TraceCode": ("code",),
    "Claim": ("claim_id", "time", "visit_type", "total_amount", "fund_paid", "diagnosis_name", "department"),
}


def mask_value(label: str, prop: str, value: Any, *, visible: bool | None = None) -> Any:
    """One property value as this session may see it."""
    if visible is None:
        visible = personal_data_visible()
    if visible or value is None:
        return value
    mask = PERSONAL.get(label, {}).get(prop)
    return mask(str(value)) if mask else value


def display_label(label: str, props: Mapping[str, Any], *, visible: bool | None = None) -> str:
    """The short text drawn next to a node (masked for personal entities)."""
    if visible is None:
        visible = personal_data_visible()

    def m(prop: str) -> str:
        return str(mask_value(label, prop, props.get(prop), visible=visible) or "")

    if label in PSEUDONYM_KIND:  # keyed by a pseudonym: shown as its short form (clear only after a reveal)
        key = props.get(key_of(label))
        return short_pseudonym(PSEUDONYM_KIND[label], str(key)) if key else "?"
    if label in ("Facility", "Doctor"):
        return str(props.get("name") or props.get("code") or "?")
    if label == "Terminal":
        return f"{props.get('facility_code', '')}·{props.get('terminal_id', '')}"
    if label == "Operator":
        return f"{props.get('facility_code', '')}·{props.get('operator_id', '')}"
    if label == "TraceCode":
        return str(props.get("code", ""))
    if label == "Claim":
        return str(props.get("claim_id", ""))
    return str(next(iter(props.values()), "")) if props else label


def property_rows(label: str, props: Mapping[str, Any], *, visible: bool | None = None) -> list[tuple[str, Any]]:
    """(property, value) pairs to show in the details panel: known ones first, plumbing dropped."""
    first = [p for p in ORDER.get(label, ()) if p in props]
    rest = sorted(p for p in props if p not in first and p not in HIDDEN_PROPS)
    return [(p, mask_value(label, p, props[p], visible=visible)) for p in (*first, *rest)]


_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_LONG_NUMBER_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{12,19}(?![0-9A-Za-z])")
_HOUSE_IN_TEXT = re.compile(r"(?<=[路街道巷弄村])\d+号[0-9A-Za-z\u4e00-\u9fff\-]*?(?=[（(，,；;。\s]|$)")


def evidence_text(text: str | None) -> str:
    """A detection sentence as shown on screen: entity references as short pseudonyms.

    Evidence names cards, phones, addresses and persons by reference
    (``{card:<pseudonym>}``); the screen shows the short pseudonym to every
    role, the clear value only through an audited reveal. Older sentences that
    still carry identifiers in prose are masked by shape as before.
    """
    return mask_text(render_text(text)) or ""


def mask_text(text: str | None, *, visible: bool | None = None) -> str | None:
    """Mask identifiers inside free text (detection evidence, explanations).

    Detection writes evidence sentences for the referral package, where
    identities are shown in full; on screen the same sentences must not
    reveal a resident ID, phone, card number or house number to a session
    that may not see them.
    """
    if visible is None:
        visible = personal_data_visible()
    if visible or not text:
        return text
    text = _ID_IN_TEXT.sub(lambda m: mask_id(m.group(0)) or "", text)
    text = _MOBILE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)) or "", text)
    text = _LONG_NUMBER_IN_TEXT.sub(lambda m: mask_card(m.group(0)) or "", text)
    return _HOUSE_IN_TEXT.sub("****", text)


def money(value: float | int | None) -> str:
    """¥ amounts with thousands separators and no decimals for big sums."""
    if value is None:
        return ""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}"
