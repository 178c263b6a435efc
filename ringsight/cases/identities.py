"""Identities behind pseudonyms: the one way to read the identity vault, and how references are shown.

The graph, the staged tables and detection's evidence hold only pseudonyms
(keyed hashes) of persons, cards, phones and addresses. A person cleared for
personal data (:func:`ringsight.cases.roles.may_unmask`) gets the clear value
through :func:`reveal` / :func:`reveal_many`, which check the role and write
an ``unmask`` audit entry naming the pseudonyms and the purpose (never the
values) before reading the vault. Everyone else sees the short pseudonym
(:func:`ringsight.identity.short_pseudonym`), the same in every screen.

Kinds: ``card``, ``phone``, ``address`` and, for a patient (pseudonym =
``Patient.pid``), ``patient.name``, ``patient.resident_id``,
``patient.person_no``, ``patient.birth_date``, ``patient.id_type``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ringsight.appdb import for_store, vault
from ringsight.cases import audit
from ringsight.cases.roles import Permission, Principal, may_unmask, require
from ringsight.config import Settings
from ringsight.errors import InputError, RingSightError
from ringsight.graph.model import NODE_TYPE_BY_LABEL
from ringsight.graph.store import GraphStore, Node, QueryResult
from ringsight.graph.store import Path as GraphPath
from ringsight.identity import REF_RE, pseudonym, render_text, short_pseudonym, text_refs

__all__ = ["REF_RE", "render_text", "reveal", "reveal_many", "reveal_result", "search_pseudonyms", "text_refs"]

KINDS: tuple[str, ...] = ("card", "phone", "address", *(f"patient.{f}" for f in vault.PATIENT_FIELDS))

#: Which vault kind stands for a graph label's key when it is shown in one line.
LABEL_DISPLAY_KIND: dict[str, str] = {
    "Patient": "patient.name",
    "Card": "card",
    "Phone": "phone",
    "Address": "address",
}

#: Vault kind behind each personal property a revealed record shows (the names the UI and referral use;
#: for cards and phones the key property's name, whose revealed value is the clear number).
PROPERTY_KINDS: dict[str, dict[str, str]] = {
    "Patient": {
        "name": "patient.name",
        "id_raw": "patient.resident_id",
        "person_no": "patient.person_no",
        "birth_date": "patient.birth_date",
    },
    "Card": {"card_id": "card"},
    "Phone": {"number": "phone"},
    "Address": {"text": "address"},
}


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InputError(f"'{kind}' is not a kind of personal value.", f"Use one of: {', '.join(KINDS)}.")


def reveal(
    principal: Principal, kind: str, pseudonym_: str, purpose: str, *, store: GraphStore, settings: Settings
) -> str:
    """The clear value behind one pseudonym, for a cleared role; the reveal is audited first.

    Raises :class:`~ringsight.cases.roles.AccessDenied` for roles not cleared
    (analyst, admin) and :class:`RingSightError` when the vault has no value.
    """
    found = reveal_many(principal, [(kind, pseudonym_)], purpose, store=store, settings=settings)
    if (kind, pseudonym_) not in found:
        raise RingSightError(f"The identity vault holds no {kind} for {short_pseudonym(kind, pseudonym_)}.")
    return found[(kind, pseudonym_)]


def reveal_many(
    principal: Principal,
    refs: Iterable[tuple[str, str]],
    purpose: str,
    *,
    store: GraphStore,
    settings: Settings,
    target: str | None = None,
) -> dict[tuple[str, str], str]:
    """Clear values of many (kind, pseudonym) pairs — a referral package, a result table — in one audited step.

    One ``unmask`` audit entry lists every pseudonym asked for and the purpose
    (``target`` names what was revealed, default the pair or the count).
    Pairs the vault does not know are left out of the answer.
    """
    require(principal, Permission.UNMASK)
    if not purpose or not purpose.strip():
        raise InputError("A reveal needs a purpose (why the identity is needed).", "Give the case or the reason.")
    wanted = list(dict.fromkeys(refs))
    for kind, _ in wanted:
        _check_kind(kind)
    if not wanted:
        return {}
    audit.record(
        store,
        settings=settings,
        user=principal.username,
        action="unmask",
        target=target or _target(wanted),
        after={"purpose": purpose, "count": len(wanted), "refs": [f"{k}:{p}" for k, p in wanted[:1000]]},
    )
    return vault.lookup(for_store(store, settings), wanted)


def _target(refs: list[tuple[str, str]]) -> str:
    if len(refs) == 1:
        return f"{refs[0][0]}:{refs[0][1]}"
    return f"{len(refs)} identities"


def display(kind: str, pseudonym_: str | None, clear: dict[tuple[str, str], str] | None = None) -> str:
    """How a reference is shown: the clear value when it was revealed (in ``clear``), else the short pseudonym."""
    if not pseudonym_:
        return ""
    if clear and (kind, pseudonym_) in clear:
        return clear[(kind, pseudonym_)]
    return short_pseudonym(kind.split(".", 1)[0], pseudonym_)


# --- references inside text (defined in ringsight.identity, the lowest layer) ---------------------


def render_for(
    principal: Principal | None,
    texts: Iterable[str | None],
    *,
    reveal_clear: bool,
    purpose: str,
    store: GraphStore,
    settings: Settings,
) -> list[str]:
    """Texts rendered for a person: clear values (one audited reveal) when asked and cleared, else pseudonyms."""
    texts = list(texts)
    clear: dict[tuple[str, str], str] = {}
    if reveal_clear and principal is not None and may_unmask(principal.role):
        refs = [r for t in texts for r in text_refs(t)]
        if refs:
            clear = reveal_many(principal, refs, purpose, store=store, settings=settings)
    return [render_text(t, clear) for t in texts]


# --- search -------------------------------------------------------------------------------------


def search_pseudonyms(text: str, settings: Settings) -> list[tuple[str, str]]:
    """The (label, key) pairs a typed resident ID, card number or phone would have in the graph.

    The input is normalised as the loader normalises it (upper-case ID, digits
    of a phone) and hashed with the same key, so a search never needs the clear
    values in the graph.
    """
    value = re.sub(r"\s+", "", text or "").upper()
    if not value:
        return []
    key = settings.pseudonym_key()
    out = [("Patient", pseudonym("patient", value, key)), ("Card", pseudonym("card", value, key))]
    phone = _phone(text)
    if phone:
        out.append(("Phone", pseudonym("phone", phone, key)))
    return out


def _phone(text: str) -> str | None:
    """The loader's phone form (``loaders.normalise.norm_phone``) for a typed mobile or landline."""
    digits = re.sub(r"\D", "", text)
    mobile = re.fullmatch(r"(?:0086|86)?(1[3-9]\d{9})", digits)
    if mobile:
        return mobile.group(1)
    return digits if re.fullmatch(r"0[1-9]\d{8,10}", digits) else None


def node_refs(label: str, key: str) -> list[tuple[str, str]]:
    """The vault references of a graph node's personal properties (nothing for other labels)."""
    return [(kind, key) for kind in PROPERTY_KINDS.get(label, {}).values()]


def clear_properties(label: str, key: str, clear: dict[tuple[str, str], str]) -> dict[str, Any]:
    """A node's personal properties by name (``name``, ``id_raw``, ``card_id``…) from revealed values."""
    return {prop: clear[(kind, key)] for prop, kind in PROPERTY_KINDS.get(label, {}).items() if (kind, key) in clear}


# --- query results ------------------------------------------------------------------------------

_PSEUDONYM_RE = re.compile(r"^[0-9a-f]{32}$")


def reveal_result(
    principal: Principal, result: QueryResult, purpose: str, *, store: GraphStore, settings: Settings
) -> QueryResult:
    """A query result with every pseudonym in it resolved through the vault, in one audited reveal.

    Nodes of personal labels get their clear properties (``name``, ``id_raw``,
    ``card_id`` …); a bare pseudonym in a column (``RETURN p.pid``) becomes
    its clear value. For ``ringsight cypher --reveal``: cleared roles only.
    """
    require(principal, Permission.UNMASK)
    refs: list[tuple[str, str]] = []
    for row in result.rows:
        for value in row:
            _collect(value, refs)
    clear = reveal_many(principal, refs, purpose, store=store, settings=settings, target="query result") if refs else {}
    rows = [[_resolve(v, clear) for v in row] for row in result.rows]
    return QueryResult(columns=list(result.columns), rows=rows, truncated=result.truncated, stats=dict(result.stats))


def _collect(value: Any, refs: list[tuple[str, str]]) -> None:
    if isinstance(value, Node):
        for label in value.labels:
            key = value.properties.get(NODE_TYPE_BY_LABEL[label].key) if label in NODE_TYPE_BY_LABEL else None
            if key:
                refs.extend(node_refs(label, str(key)))
    elif isinstance(value, GraphPath):
        for node in value.nodes:
            _collect(node, refs)
    elif isinstance(value, list | tuple):
        for v in value:
            _collect(v, refs)
    elif isinstance(value, dict):
        for v in value.values():
            _collect(v, refs)
    elif isinstance(value, str) and _PSEUDONYM_RE.match(value):
        refs.extend((kind, value) for kind in ("patient.name", "patient.resident_id", "card", "phone", "address"))


def _resolve(value: Any, clear: dict[tuple[str, str], str]) -> Any:
    if isinstance(value, Node):
        extra: dict[str, Any] = {}
        for label in value.labels:
            key = value.properties.get(NODE_TYPE_BY_LABEL[label].key) if label in NODE_TYPE_BY_LABEL else None
            if key:
                extra.update(clear_properties(label, str(key), clear))
        return Node(value.id, value.labels, {**value.properties, **extra}) if extra else value
    if isinstance(value, GraphPath):
        return GraphPath(tuple(_resolve(n, clear) for n in value.nodes), value.relationships)
    if isinstance(value, list | tuple):
        return [_resolve(v, clear) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, clear) for k, v in value.items()}
    if isinstance(value, str) and _PSEUDONYM_RE.match(value):
        name, rid = clear.get(("patient.name", value)), clear.get(("patient.resident_id", value))
        if name or rid:
            return " ".join(x for x in (name, rid) if x)
        return next((clear[(k, value)] for k in ("card", "phone", "address") if (k, value) in clear), value)
    return value
