"""Personal-data masking and reveals of records.

The graph holds pseudonyms of persons, cards, phones and addresses, not their
clear values (those are in the identity vault, read only through
:mod:`ringsight.cases.identities`), so what an analyst can query holds no
identity. The masks here remain for records that carry clear values outside
the graph — revealed records, referral rows, audit exports — shown to someone
not entitled: ``110105********123X``, ``张**``, ``138****5678``. Asking to see a
record in clear is an action: :func:`reveal` checks the permission, appends an
``unmask`` audit entry and only then returns the clear values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from ringsight.cases import audit
from ringsight.cases.roles import AccessDenied, Permission, Principal, may_unmask, require
from ringsight.config import Settings
from ringsight.graph.model import ENTITY_LABELS, NODE_TYPE_BY_LABEL
from ringsight.graph.store import GraphStore, Node, Path
from ringsight.identity import mask_address, mask_card, mask_id, mask_name, mask_phone, mask_text

Masker = Callable[[str | None], str | None]


def mask_birth_date(value: str | None) -> str | None:
    """1990-01-01 -> 1990-**-**: the year stays (age matters to a reviewer), the day would identify."""
    if not value:
        return value
    return value[:4] + "-**-**" if len(value) >= 4 else "****"


# Personal properties per node label (docs/graph-contract.md, "Entities").
PERSONAL_FIELDS: dict[str, dict[str, Masker]] = {
    "Patient": {"id_raw": mask_id, "name": mask_name, "person_no": mask_card, "birth_date": mask_birth_date},
    "Card": {"card_id": mask_card},
    "Phone": {"number": mask_phone},
    "Address": {"key": mask_address, "text": mask_address},
}

# Field / column names (lower-case, after the last '.') that hold personal data when the label is unknown.
FIELD_HINTS: dict[str, Masker] = {
    **dict.fromkeys(
        ("id_raw", "patient_id", "certno", "resident_id", "id_number", "id_card", "身份证号", "证件号码"), mask_id
    ),
    **dict.fromkeys(("person_no", "psn_no", "人员编号"), mask_card),
    **dict.fromkeys(
        ("name", "patient_name", "psn_name", "holder_name", "member_name", "patient", "姓名", "参保人姓名"), mask_name
    ),
    **dict.fromkeys(("phone", "patient_phone", "contact_phone", "tel", "mobile", "coner_tel", "联系电话"), mask_phone),
    **dict.fromkeys(
        ("address", "patient_address", "curr_addr", "address_text", "addr", "联系地址", "居住地址"), mask_address
    ),
    **dict.fromkeys(("card_id", "card", "card_no", "mdtrt_cert_no", "医保卡号", "社保卡号"), mask_card),
    "birth_date": mask_birth_date,
}

# Name-like columns that are not about an insured person (institutions, doctors, codes).
NOT_PERSONAL_PREFIXES = ("facility", "doctor", "diagnosis", "item", "drug", "department", "display", "run", "query")


def _hint(field: str) -> Masker | None:
    name = field.rsplit(".", 1)[-1].strip().lower()
    if name in FIELD_HINTS:
        return FIELD_HINTS[name]
    if name.startswith(NOT_PERSONAL_PREFIXES):
        return None
    if name.endswith("_name") and name.startswith(("patient", "psn", "member", "holder")):
        return mask_name
    return None


def _mask_any(value: Any, masker: Masker | None = None) -> Any:
    """Mask one value: with ``masker`` when the field is known, else by shape inside strings."""
    if value is None:
        return None
    if isinstance(value, str):
        return masker(value) if masker else mask_text(value)
    if isinstance(value, list | tuple):
        return [_mask_any(v, masker) for v in value]
    if isinstance(value, dict):
        return _mask_fields(value, None)
    if isinstance(value, Node):
        return mask_node_properties(value)
    if isinstance(value, Path):
        return Path(tuple(mask_node_properties(n) for n in value.nodes), value.relationships)
    if masker and isinstance(value, int | float):
        return masker(str(value))
    return value


def _mask_fields(record: dict[str, Any], label: str | None) -> dict[str, Any]:
    by_label = PERSONAL_FIELDS.get(label or "", {})
    known_label = label in NODE_TYPE_BY_LABEL
    out: dict[str, Any] = {}
    for field, value in record.items():
        masker = by_label.get(field) if known_label else _hint(str(field))
        out[field] = _mask_any(value, masker)
    return out


def _label_of(record: dict[str, Any]) -> str | None:
    label = record.get("label")
    if isinstance(label, str) and label in NODE_TYPE_BY_LABEL:
        return label
    labels = record.get("labels")
    if isinstance(labels, list | tuple):
        return next((lb for lb in labels if lb in ENTITY_LABELS), None)
    return None


def mask_node_properties(node: Node) -> Node:
    """The same node with its personal properties masked (by its label)."""
    label = next((lb for lb in node.labels if lb in NODE_TYPE_BY_LABEL), node.label)
    return replace(node, properties=_mask_fields(dict(node.properties), label))


def mask_record(record: dict[str, Any], role: str, *, label: str | None = None, unmask: bool = False) -> dict[str, Any]:
    """A copy of ``record`` as ``role`` may see it.

    Parameters
    ----------
    record : a flat dict (a node's properties, a table row, a query-result record) or a UI member row
        ``{"label", "key", "properties", …}`` as returned by ``ringsight.algorithms.results.cluster_members``.
    role : the viewer's role.
    label : the node label the record describes, when known (masks by label rather than by field name).
    unmask : the viewer asked to see this record in clear (after :func:`reveal` recorded it); honoured only
        for roles cleared for personal data — any other role gets the masked record regardless.
    """
    if unmask and may_unmask(role):
        return dict(record)
    label = label or _label_of(record)
    if isinstance(record.get("properties"), dict):
        out = dict(record)
        out["properties"] = _mask_fields(record["properties"], label)
        if "key" in record and label in PERSONAL_FIELDS:
            key_masker = PERSONAL_FIELDS[label].get(NODE_TYPE_BY_LABEL[label].key)
            out["key"] = key_masker(record["key"]) if key_masker and isinstance(record["key"], str) else record["key"]
        for k, v in record.items():
            if k not in ("properties", "key", "label", "labels"):
                out[k] = _mask_any(v, _hint(k))
        return out
    return _mask_fields(record, label)


def mask_rows(
    rows: Iterable[dict[str, Any]], role: str, *, label: str | None = None, unmask: bool = False
) -> list[dict[str, Any]]:
    """:func:`mask_record` over many rows (a table, a CSV export)."""
    return [mask_record(r, role, label=label, unmask=unmask) for r in rows]


def reveal(
    store: GraphStore,
    user: Principal,
    label: str,
    key: str,
    *,
    reason: str | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """A node's properties with its clear personal values from the identity vault; the reveal is audited.

    Raises :class:`AccessDenied` for roles not cleared (analyst, admin) and
    :class:`~ringsight.errors.RingSightError` when no such node exists. The
    audit entry (written by :func:`ringsight.cases.identities.reveal_many`)
    names the pseudonyms and the purpose, never the values.
    """
    from ringsight.cases import identities
    from ringsight.config import get_settings

    require(user, Permission.UNMASK)
    node_type = NODE_TYPE_BY_LABEL.get(label)
    if node_type is None:
        raise AccessDenied(f"'{label}' is not a RingSight label.", "Reveal a Patient, Card, Phone or Address.")
    node = store.read(f"MATCH (n:{node_type.label} {{{node_type.key}: $key}}) RETURN n", {"key": key}).scalar()
    if node is None:
        from ringsight.errors import RingSightError

        raise RingSightError(f"No {label} with {node_type.key} = {key!r} in the graph.", "Check the key.")
    refs = identities.node_refs(label, key)
    if not refs:
        return dict(node.properties)
    purpose = reason or f"reveal {label}"
    clear = identities.reveal_many(
        user, refs, purpose, store=store, settings=settings or get_settings(), target=f"{label}:{key}"
    )
    return {**node.properties, **identities.clear_properties(label, key, clear)}


def reveal_record(
    store: GraphStore, user: Principal, record: dict[str, Any], *, target: str, reason: str | None = None
) -> dict[str, Any]:
    """Return a record already held server-side unmasked, after checking the role and auditing the reveal.

    ``target`` names what is revealed for the audit trail (``"Cluster:C000123 members"``).
    """
    require(user, Permission.UNMASK)
    audit.record(store, user=user.username, action="unmask", target=target, after={"reason": reason})
    return dict(record)
