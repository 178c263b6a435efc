"""Notes and tags on anything an investigator looks at: entities, clusters, claims, cases, links.

An annotation is an ``Annotation`` node linked by ``ABOUT`` to what it
describes (docs/graph-contract.md). It keeps ``target_label`` and
``target_key`` too, so a note survives even if the target is re-loaded, and
the canvas can fetch all notes for the nodes on screen in one query.

A *link* (a relationship, or a link the canvas draws by folding claims) has
no key of its own; it is addressed by its two ends: ``target_label`` is the
relationship type (``HAS_PHONE``) or ``LINK`` for a folded link, and
``target_key`` is :func:`link_key` of the ends. Such a note has an ``ABOUT``
edge to each end.

Text is stored exactly as typed — markup included. Displaying it safely is the
UI's job (Dash renders strings as text, never as HTML). Tags come from the
configured vocabulary (``cases.tags``). Annotations are never edited or
deleted; a wrong one is *retracted* (kept, marked, audited).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from ringsight.cases import audit
from ringsight.cases.roles import Permission, Principal, require
from ringsight.config import Settings, get_settings
from ringsight.errors import RingSightError
from ringsight.graph.model import ANNOTATION, NODE_TYPE_BY_LABEL, REL_TYPE_BY_NAME, REL_TYPES
from ringsight.graph.store import GraphStore

LINK = "LINK"
MAX_TEXT = 20_000
# Labels a note may be about (the ABOUT relationship's end labels).
TARGET_LABELS: tuple[str, ...] = tuple(REL_TYPE_BY_NAME["ABOUT"].end)
_LINK_SEP = "->"


class AnnotationError(RingSightError):
    """An annotation cannot be stored as asked."""

    exit_code = 2


@dataclass(frozen=True)
class Annotation:
    """One note or tag."""

    annotation_id: str
    kind: str  # "note" or "tag"
    author: str
    created_ts: int
    target_label: str
    target_key: str
    text: str | None = None
    tag: str | None = None
    retracted_ts: int | None = None
    retracted_by: str | None = None

    @classmethod
    def from_props(cls, p: dict[str, Any]) -> Annotation:
        fields = cls.__dataclass_fields__
        return cls(**{k: p.get(k) for k in fields})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def link_key(start_label: str, start_key: str, end_label: str, end_key: str) -> str:
    """The key of a link between two nodes: ``Patient:abc->Phone:13800000000``."""
    return f"{start_label}:{start_key}{_LINK_SEP}{end_label}:{end_key}"


def parse_link_key(key: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """The two ends ``((label, key), (label, key))`` of a :func:`link_key`."""
    start, sep, end = key.partition(_LINK_SEP)
    ends = []
    for part in (start, end):
        label, colon, k = part.partition(":")
        if not sep or not colon or label not in NODE_TYPE_BY_LABEL:
            raise AnnotationError(f"'{key}' is not a link key.", "Build it with annotations.link_key(...).")
        ends.append((label, k))
    return ends[0], ends[1]


def tag_vocabulary(settings: Settings | None = None) -> list[str]:
    """The tags annotations may use (``cases.tags`` in the settings)."""
    return list((settings or get_settings()).cases.tags)


def _ends(target_label: str, target_key: str) -> list[tuple[str, str]]:
    """The nodes an annotation's ABOUT edges point to."""
    if target_label in TARGET_LABELS:
        return [(target_label, target_key)]
    if target_label == LINK or target_label in {r.type for r in REL_TYPES}:
        return list(parse_link_key(target_key))
    raise AnnotationError(
        f"Cannot annotate a '{target_label}'.",
        f"Annotate one of {', '.join(TARGET_LABELS)}, a relationship type, or {LINK} (a folded link).",
    )


def annotate(
    store: GraphStore,
    user: Principal,
    target_label: str,
    target_key: str,
    text: str | None = None,
    tag: str | None = None,
    *,
    settings: Settings | None = None,
) -> Annotation:
    """Attach a note (``text``) or a tag (``tag``) — or both — to a target and return it. Audited.

    Raises :class:`AnnotationError` when the target does not exist, the tag is
    not in the vocabulary, or there is nothing to store.
    """
    require(user, Permission.ANNOTATE)
    if text is not None and not text.strip():
        text = None
    if text is None and not tag:
        raise AnnotationError("The annotation is empty.", "Write a note or pick a tag.")
    if text is not None and len(text) > MAX_TEXT:
        raise AnnotationError(f"The note is {len(text)} characters long; the limit is {MAX_TEXT}.", "Shorten it.")
    if tag and tag not in tag_vocabulary(settings):
        raise AnnotationError(
            f"'{tag}' is not in the tag vocabulary.", f"Use one of: {', '.join(tag_vocabulary(settings))}."
        )
    ends = _ends(target_label, str(target_key))
    props = {
        "annotation_id": f"N{time.time_ns() // 1000:016d}-{uuid.uuid4().hex[:6]}",
        "kind": "tag" if tag else "note",
        "text": text,
        "tag": tag or None,
        "author": user.username,
        "created_ts": int(time.time()),
        "target_label": target_label,
        "target_key": str(target_key),
    }
    props = {k: v for k, v in props.items() if v is not None}
    _create(store, props, ends)
    audit.record(
        store,
        user=user.username,
        action="annotation.add",
        target=f"{target_label}:{target_key}",
        after={k: props.get(k) for k in ("annotation_id", "kind", "text", "tag")},
    )
    return Annotation.from_props(props)


def _create(store: GraphStore, props: dict[str, Any], ends: list[tuple[str, str]]) -> None:
    """Create the node and its ABOUT edges in one statement, or nothing when an end is missing."""
    matches, links = [], []
    params: dict[str, Any] = {"props": props}
    for i, (label, key) in enumerate(ends):
        nt = NODE_TYPE_BY_LABEL[label]
        matches.append(f"MATCH (e{i}:{nt.label} {{{nt.key}: $k{i}}})")
        links.append(f"CREATE (a)-[:ABOUT]->(e{i})")
        params[f"k{i}"] = key
    cypher = "\n".join([*matches, f"CREATE (a:{ANNOTATION.label}) SET a = $props", *links, "RETURN a.annotation_id"])
    if store.write(cypher, params).scalar() is None:
        missing = ", ".join(f"{lb}:{k}" for lb, k in ends)
        raise AnnotationError(f"Nothing to annotate: {missing} is not in the graph.", "Reload the view and try again.")


def list_annotations(store: GraphStore, label: str, key: str, *, include_retracted: bool = False) -> list[Annotation]:
    """The notes and tags on one target, newest first."""
    return annotations_for(store, label, [key], include_retracted=include_retracted).get(str(key), [])


def annotations_for(
    store: GraphStore, label: str, keys: Iterable[str], *, include_retracted: bool = False
) -> dict[str, list[Annotation]]:
    """Notes and tags for many targets of one label (the nodes on the canvas), keyed by target key."""
    cypher = (
        f"MATCH (a:{ANNOTATION.label}) WHERE a.target_label = $label AND a.target_key IN $keys "
        + ("" if include_retracted else "AND a.retracted_ts IS NULL ")
        + "RETURN a ORDER BY a.annotation_id DESC"
    )
    out: dict[str, list[Annotation]] = {}
    for node in store.read(cypher, {"label": label, "keys": [str(k) for k in keys]}).column("a"):
        ann = Annotation.from_props(node.properties)
        out.setdefault(ann.target_key, []).append(ann)
    return out


def tags_for(store: GraphStore, label: str, keys: Iterable[str]) -> dict[str, list[str]]:
    """The current tags per target (for badges on the canvas and the queue)."""
    return {
        key: sorted({a.tag for a in anns if a.tag})
        for key, anns in annotations_for(store, label, keys).items()
        if any(a.tag for a in anns)
    }


def recent_annotations(store: GraphStore, *, author: str | None = None, limit: int = 100) -> list[Annotation]:
    """The latest annotations (optionally by one author), newest first."""
    where = "WHERE a.author = $author " if author else ""
    cypher = f"MATCH (a:{ANNOTATION.label}) {where}RETURN a ORDER BY a.annotation_id DESC LIMIT $limit"
    return [
        Annotation.from_props(n.properties) for n in store.read(cypher, {"author": author, "limit": limit}).column("a")
    ]


def retract(store: GraphStore, user: Principal, annotation_id: str, reason: str) -> Annotation:
    """Mark an annotation as withdrawn (it stays in the graph and the audit trail). Audited.

    Only its author or a supervisor may retract it.
    """
    require(user, Permission.ANNOTATE)
    node = store.read(f"MATCH (a:{ANNOTATION.label} {{annotation_id: $id}}) RETURN a", {"id": annotation_id}).scalar()
    if node is None:
        raise AnnotationError(f"There is no annotation {annotation_id}.", "Reload the view.")
    before = Annotation.from_props(node.properties)
    if before.author != user.username and user.role != "supervisor":
        raise AnnotationError("Only the author or a supervisor may retract an annotation.", "Ask its author.")
    if before.retracted_ts:
        return before
    changes = {"retracted_ts": int(time.time()), "retracted_by": user.username, "retract_reason": reason}
    store.write(f"MATCH (a:{ANNOTATION.label} {{annotation_id: $id}}) SET a += $c", {"id": annotation_id, "c": changes})
    audit.record(
        store,
        user=user.username,
        action="annotation.retract",
        target=f"Annotation:{annotation_id}",
        before=before.as_dict(),
        after=changes,
    )
    return Annotation.from_props({**node.properties, **changes})
