"""Score detected clusters against a synthetic ground truth (``ground_truth.json`` of ``ringsight.synth``).

- A planted ring is *found* when one cluster contains at least 80 % of its
  core members (the member kinds listed in the ring's ``core``).
- A cluster is a *true positive* when it contains at least half of some
  ring's core members; it *flags a look-alike* when it contains at least half
  of a legitimate group's core members and no ring's.
- Precision is taken over the top ``top`` clusters by score; per typology it
  is the share of the top clusters *labelled* with that typology (their first
  typology) that match a planted ring.

Ground-truth members are canonical identifiers from the claims files; persons
are compared by their graph key (the keyed hash of the resident ID).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ringsight.graph.model import PERSONAL_LABELS
from ringsight.identity import pseudonym

_KIND_LABEL = {"patients": "Patient", "cards": "Card", "phones": "Phone", "facilities": "Facility", "doctors": "Doctor"}


@dataclass
class Evaluation:
    """Recall and precision overall and per typology, and what went wrong."""

    recall: float
    precision: float
    top: int
    lookalikes_in_top: list[str]
    per_typology: pl.DataFrame
    missed: list[dict[str, Any]] = field(default_factory=list)
    false_positives: list[dict[str, Any]] = field(default_factory=list)
    #: typology, rendering, held_back, rings, found, recall, best_share, top_hits (one row per rendering)
    per_rendering: pl.DataFrame | None = None
    #: recall over the renderings detection was tuned on, and over the held-back ones (None: none planted)
    recall_tuned: float | None = None
    recall_held_back: float | None = None


def core_members(group: dict[str, Any], id_hash_key: str) -> set[tuple[str, str]]:
    """The (label, key) pairs of a ring's or look-alike's core members."""
    out: set[tuple[str, str]] = set()
    for kind in group.get("core") or []:
        label = _KIND_LABEL.get(kind)
        if label is None:
            continue
        for value in group["members"].get(kind, []):
            out.add((label, graph_key(label, str(value), id_hash_key)))
    return out


def graph_key(label: str, value: str, id_hash_key: str) -> str:
    """The graph key of a ground-truth member: personal values are pseudonymised as the loader does."""
    kind = PERSONAL_LABELS.get(label)
    if kind is None:
        return value
    if kind == "phone":
        return pseudonym(kind, re.sub(r"\D", "", value), id_hash_key)  # the truth holds clean numbers
    return pseudonym(kind, re.sub(r"\s+", "", value).upper(), id_hash_key)


def evaluate(
    ground_truth: Path | dict[str, Any],
    clusters: pl.DataFrame,
    members: pl.DataFrame,
    *,
    id_hash_key: str,
    top: int = 50,
    found_share: float = 0.8,
) -> Evaluation:
    """Compare clusters (cluster_id, score, typologies) and members (cluster_id, label, key) with the truth."""
    truth = (
        json.loads(Path(ground_truth).read_text(encoding="utf-8")) if isinstance(ground_truth, Path) else ground_truth
    )
    rings = [(r["ring_id"], r["typology"], core_members(r, id_hash_key)) for r in truth["rings"]]
    rendering = {r["ring_id"]: (r.get("rendering", "base"), bool(r.get("held_back", False))) for r in truth["rings"]}
    looks = [
        (g["group_id"], g["kind"], core_members({**g, "core": _look_core(g)}, id_hash_key)) for g in truth["lookalikes"]
    ]
    by_cluster: dict[str, set[tuple[str, str]]] = {}
    for cid, label, key in members.select("cluster_id", "label", "key").iter_rows():
        by_cluster.setdefault(cid, set()).add((label, key))
    ranked = clusters.sort("score", descending=True)["cluster_id"].to_list()
    rows, missed = [], []
    for ring_id, typology, core in rings:
        best = max((len(core & m) / max(1, len(core)) for m in by_cluster.values()), default=0.0)
        found = best >= found_share
        rows.append(
            {
                "ring_id": ring_id,
                "typology": typology,
                "rendering": rendering[ring_id][0],
                "held_back": rendering[ring_id][1],
                "found": found,
                "best_share": round(best, 3),
            }
        )
        if not found:
            missed.append({"ring_id": ring_id, "typology": typology, "best_share": round(best, 3), "core": len(core)})
    head = ranked[:top]
    labels = {}
    if "typologies" in clusters.columns:
        labels = {cid: (t[0] if t else None) for cid, t in clusters.select("cluster_id", "typologies").iter_rows()}
    tp, fps, look_hits, labelled, hit_ids = [], [], [], [], []
    for cid in head:
        m = by_cluster.get(cid, set())
        ring_hit = _best(rings, m)
        hit_ids.append(_best([(rid, rid, core) for rid, _, core in rings], m))
        look_hit = _best(looks, m)
        tp.append(ring_hit)
        labelled.append((labels.get(cid), ring_hit is not None))
        if ring_hit is None:
            fps.append({"cluster_id": cid, "members": len(m), "lookalike": look_hit})
            if look_hit is not None:
                look_hits.append(f"{cid}:{look_hit}")
    per = pl.DataFrame(
        rows,
        schema={
            "ring_id": pl.String,
            "typology": pl.String,
            "rendering": pl.String,
            "held_back": pl.Boolean,
            "found": pl.Boolean,
            "best_share": pl.Float64,
        },
    )
    hits = pl.DataFrame({"typology": [t for t in tp if t is not None]}, schema={"typology": pl.String})
    lab = pl.DataFrame(labelled, schema={"typology": pl.String, "true": pl.Boolean}, orient="row")
    table = (
        per.group_by("typology")
        .agg(pl.len().alias("rings"), pl.col("found").sum().alias("found"), pl.col("best_share").mean().round(3))
        .join(hits.group_by("typology").agg(pl.len().alias("top_hits")), on="typology", how="left")
        .join(
            lab.group_by("typology").agg(pl.len().alias("labelled"), pl.col("true").mean().round(3).alias("precision")),
            on="typology",
            how="full",
            coalesce=True,
        )
        .with_columns(
            (pl.col("found") / pl.col("rings")).round(3).alias("recall"),
            pl.col("top_hits").fill_null(0),
            pl.col("labelled").fill_null(0),
        )
        .sort("typology")
    )
    recall = float(per["found"].mean()) if per.height else 0.0
    precision = sum(t is not None for t in tp) / len(head) if head else 0.0
    top_ids = pl.DataFrame({"ring_id": [h for h in hit_ids if h is not None]}, schema={"ring_id": pl.String})
    by_rendering = (
        per.join(top_ids.group_by("ring_id").agg(pl.len().alias("top_hits")), on="ring_id", how="left")
        .group_by("typology", "rendering", "held_back")
        .agg(
            pl.len().alias("rings"),
            pl.col("found").sum().alias("found"),
            pl.col("best_share").mean().round(3),
            pl.col("top_hits").fill_null(0).sum(),
        )
        .with_columns((pl.col("found") / pl.col("rings")).round(3).alias("recall"))
        .sort("held_back", "typology", "rendering")
    )
    tuned, held = per.filter(~pl.col("held_back")), per.filter(pl.col("held_back"))
    return Evaluation(
        recall,
        precision,
        len(head),
        look_hits,
        table,
        missed,
        fps,
        per_rendering=by_rendering,
        recall_tuned=float(tuned["found"].mean()) if tuned.height else None,
        recall_held_back=float(held["found"].mean()) if held.height else None,
    )


def _best(groups: list[tuple[str, str, set]], members: set) -> str | None:
    """The kind of the group whose core the members cover best, when they cover at least half of it."""
    best, share = None, 0.5
    for _, kind, core in groups:
        if core and len(core & members) / len(core) >= share:
            best, share = kind, len(core & members) / len(core)
    return best


def _look_core(group: dict[str, Any]) -> list[str]:
    if group.get("core"):
        return group["core"]
    if group["kind"] == "big_hospital":
        return ["facilities"]
    if group["kind"] == "hospital_pharmacy":
        return ["doctors", "facilities"]
    return ["patients"]
