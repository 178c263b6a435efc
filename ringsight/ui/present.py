"""How an entity is shown: its one-line label and its property list, masked per session.

Personal identifiers (resident ID, name, phone, card and address) pass through
the masks in :mod:`ringsight.identity` unless
:func:`ringsight.ui.session.personal_data_visible` says otherwise; nothing
in the UI formats a person's identifier without going through here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ringsight.identity import mask_address, mask_card, mask_id, mask_name, mask_phone
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

#: Column names in query results that hold personal values whatever the label.
PERSONAL_COLUMNS: dict[str, Callable[[Any], Any]] = {
    "id_raw": mask_id,
    "resident_id": mask_id,
    "patient_id": mask_id,
    "name": mask_name,
    "patient_name": mask_name,
    "person_no": mask_card,
    "number": mask_phone,
    "phone": mask_phone,
    "patient_phone": mask_phone,
    "contact_phone": mask_phone,
    "card_id": mask_card,
    "card": mask_card,
    "text": mask_address,
    "address": mask_address,
    "address_text": mask_address,
    "birth_date": _mask_birth,
    "names": mask_name,
    "phones": mask_phone,
    "cards": mask_card,
    "address_key": mask_address,
    "address_keys": mask_address,
    "id_raws": mask_id,
}

#: Properties that are internal plumbing, never shown.
HIDDEN_PROPS = {"content_hash", "load_id", "pid"}

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

    if label == "Patient":
        return m("name") or m("id_raw") or "?"
    if label == "Card":
        return m("card_id")
    if label == "Phone":
        return m("number")
    if label == "Address":
        return m("text") or m("key")
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


def mask_column(column: str, value: Any, *, visible: bool | None = None) -> Any:
    """A scalar in a query-result column, masked when the column name says it is personal.

    Query results can return personal values as plain columns (``RETURN
    p.name AS name``); the column name is the only hint, so the console masks
    known personal column names (the last dotted part of the name counts).
    """
    if visible is None:
        visible = personal_data_visible()
    if visible or value is None or isinstance(value, (int, float, bool)):
        return value
    mask = PERSONAL_COLUMNS.get(column.rsplit(".", 1)[-1].lower())
    return mask(str(value)) if mask else value


_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_LONG_NUMBER_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{12,19}(?![0-9A-Za-z])")
_HOUSE_IN_TEXT = re.compile(r"(?<=[路街道巷弄村])\d+号[0-9A-Za-z\u4e00-\u9fff\-]*?(?=[（(，,；;。\s]|$)")


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
