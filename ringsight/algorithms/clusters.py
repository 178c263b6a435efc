"""From leads and person links to clusters: who belongs together, and what was found about them.

The graph handed to community detection has one node per entity named in a
lead (``Label|key``), one node per lead (``~L<id>``) joined to its members,
and the person-to-person projection (``Patient|pid`` pairs weighted by
surprise). A member's link to a lead is weighted by the lead's strength
divided by the square root of how many leads name that entity, so a facility
that appears in many unrelated leads (a big hospital) does not pull them into
one cluster. Each community that holds at least one lead becomes a cluster:
its entities are the members, its leads are the signals.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ringsight.algorithms.communities import Communities, detect
from ringsight.algorithms.leads import lead_members
from ringsight.config import DetectSettings

LEAD_PREFIX = "~L"

#: Roles of entities that are where something happened, not who did it: they join the
#: cluster of their lead but add no edge (many unrelated leads pass through them).
CONTEXT_ROLES = ("facility", "shop_pharmacy", "first_seller")


@dataclass
class ClusterSet:
    """Clusters of one run before scoring.

    ``members``: cluster, label, key, role, weight (one row per member entity);
    ``leads``: cluster, lead_id (the leads inside each cluster);
    ``communities``: the partition it came from.
    """

    members: pl.DataFrame
    leads: pl.DataFrame
    communities: Communities


def entity_name(label: pl.Expr, key: pl.Expr) -> pl.Expr:
    """The graph node name of an entity: ``Label|key``."""
    return pl.concat_str([label, key], separator="|")


def lead_edges(leads: pl.DataFrame, clique_max: int = 40) -> pl.DataFrame:
    """Edges joining the members of each lead.

    A lead with up to ``clique_max`` members joins every pair of them with
    ``strength / (k − 1)`` (so a lead adds the same weight per member whatever
    its size); a larger lead joins each member to a node of its own
    (``~L<id>``) with ``strength``. Every edge is divided by the square root of
    the number of leads naming each end, so a hub entity cannot glue leads.
    """
    schema = {"a": pl.String, "b": pl.String, "weight": pl.Float64}
    lm = lead_members(leads).join(leads.select("lead_id", "strength"), on="lead_id")
    lm = lm.filter(~pl.col("role").is_in(CONTEXT_ROLES))
    if lm.is_empty():
        return pl.DataFrame(schema=schema)
    lm = lm.with_columns(
        entity_name(pl.col("label"), pl.col("key")).alias("node"),
        pl.col("strength").clip(0.05, 1.0),
        pl.len().over("lead_id").alias("k"),
    ).with_columns(pl.len().over("node").cast(pl.Float64).sqrt().alias("damp"))
    small = lm.filter(pl.col("k") <= clique_max).select("lead_id", "node", "strength", "k", "damp")
    pairs = (
        small.join(
            small.select("lead_id", pl.col("node").alias("node_b"), pl.col("damp").alias("damp_b")), on="lead_id"
        )
        .filter(pl.col("node") < pl.col("node_b"))
        .select(
            pl.col("node").alias("a"),
            pl.col("node_b").alias("b"),
            (pl.col("strength") / (pl.col("k") - 1) / (pl.col("damp") * pl.col("damp_b")).sqrt()).alias("weight"),
        )
    )
    stars = lm.filter(pl.col("k") > clique_max).select(
        pl.concat_str([pl.lit(LEAD_PREFIX), pl.col("lead_id").cast(pl.String)]).alias("a"),
        pl.col("node").alias("b"),
        (pl.col("strength") / pl.col("damp")).alias("weight"),
    )
    return pl.concat([pairs, stars], how="vertical").select([pl.col(c).cast(t) for c, t in schema.items()])


def build_clusters(
    leads: pl.DataFrame,
    person_edges: pl.DataFrame,
    cfg: DetectSettings,
    *,
    initial: dict[str, int] | None = None,
) -> ClusterSet:
    """Partition leads, entities and person links into clusters.

    Parameters
    ----------
    leads : all leads with ``lead_id`` (see :func:`ringsight.algorithms.leads.concat_leads`).
    person_edges : ``a, b, weight`` between pids (from :mod:`projections`).
    cfg : detection settings (algorithm, objective, resolution, seed).
    initial : entity name → community of the previous run, to seed Leiden.
    """
    le = lead_edges(leads)
    pe = person_edges.select(
        pl.concat_str([pl.lit("Patient|"), pl.col("a")]).alias("a"),
        pl.concat_str([pl.lit("Patient|"), pl.col("b")]).alias("b"),
        "weight",
    )
    # Person links matter only around leads: keep components that touch a lead member.
    edges = pl.concat([le, _near_leads(pe, le)], how="vertical")
    edges = edges.group_by("a", "b").agg(pl.col("weight").sum()).sort("a", "b")
    comms = detect(
        edges,
        algorithm=cfg.algorithm,
        objective=cfg.objective,
        resolution=cfg.resolution,
        seed=cfg.seed,
        initial=initial,
    )
    part = _follow_strongest_lead(comms.frame(), leads, cfg)
    lead_part = _assign_leads(leads, part)
    with_leads = lead_part.select("cluster").unique()
    ents = part.filter(~pl.col("node").str.starts_with(LEAD_PREFIX)).rename({"community": "cluster"})
    ents = ents.join(with_leads, on="cluster", how="semi")
    ents = _with_lead_entities(ents, leads, lead_part)
    members = _member_rows(ents, leads, lead_part, edges)
    sizes = members.group_by("cluster").agg(pl.len().alias("n"))
    keep = sizes.filter(pl.col("n") >= cfg.thresholds.min_cluster_size).select("cluster")
    members = members.join(keep, on="cluster", how="semi").sort(
        "cluster", "weight", "label", "key", descending=[False, True, False, False]
    )
    lead_part = lead_part.join(keep, on="cluster", how="semi").sort("cluster", "lead_id")
    return ClusterSet(members, lead_part, comms)


def _follow_strongest_lead(part: pl.DataFrame, leads: pl.DataFrame, cfg: DetectSettings) -> pl.DataFrame:
    """Each entity a lead names joins the community of its strongest lead (detector weight × strength).

    Why: community detection cuts along the densest links, and a group lead
    (twenty persons at one hospital tied by three phones) is less dense than
    the small linkage leads inside it (each phone's users), so a ring would
    come out in pieces that each look like harmless phone sharing. The
    entity's place is where its strongest evidence is.
    """
    if leads.is_empty():
        return part
    weights = cfg.weights.model_dump()
    lm = lead_members(leads).filter(~pl.col("role").is_in(CONTEXT_ROLES))
    lm = lm.join(leads.select("lead_id", "strength"), on="lead_id").with_columns(
        entity_name(pl.col("label"), pl.col("key")).alias("node"),
        (pl.col("detector").replace_strict(weights, default=0.0, return_dtype=pl.Float64) * pl.col("strength")).alias(
            "evidence"
        ),
    )
    lead_nodes = lm.select("lead_id", "node").join(part, on="node")
    lead_home = (
        lead_nodes.group_by("lead_id", "community")
        .agg(pl.len().alias("n"))
        .sort(["lead_id", "n", "community"], descending=[False, True, False])
        .unique("lead_id", keep="first")
        .select("lead_id", pl.col("community").alias("target"))
    )
    best = (
        lm.join(lead_home, on="lead_id")
        .sort(["node", "evidence", "lead_id"], descending=[False, True, False])
        .unique("node", keep="first")
        .select("node", "target")
    )
    return (
        part.join(best, on="node", how="left")
        .with_columns(pl.coalesce("target", "community").cast(part.schema["community"]).alias("community"))
        .select(part.columns)
    )


def _assign_leads(leads: pl.DataFrame, part: pl.DataFrame) -> pl.DataFrame:
    """Each lead goes to the community holding most of its acting members (ties: the lower community).

    The places a lead merely passed through (context roles) vote only when no acting member is placed.
    """
    lm = lead_members(leads).with_columns(
        entity_name(pl.col("label"), pl.col("key")).alias("node"),
        (~pl.col("role").is_in(CONTEXT_ROLES)).cast(pl.Int64).alias("acting"),
    )
    placed = lm.join(part, on="node")
    placed = placed.filter(pl.col("acting") == pl.col("acting").max().over("lead_id"))
    votes = placed.group_by("lead_id", "community").agg(pl.len().alias("n"))
    best = votes.sort(["lead_id", "n", "community"], descending=[False, True, False]).unique("lead_id", keep="first")
    return best.select(pl.col("community").alias("cluster"), "lead_id")


def _with_lead_entities(ents: pl.DataFrame, leads: pl.DataFrame, lead_part: pl.DataFrame) -> pl.DataFrame:
    """Add to each cluster the non-person entities of its leads (a facility may serve several clusters)."""
    lm = lead_members(leads).filter(~pl.col("label").is_in(["Patient", "Card"]))
    extra = lm.join(lead_part, on="lead_id").select(
        entity_name(pl.col("label"), pl.col("key")).alias("node"), "cluster"
    )
    return pl.concat([ents.select("node", "cluster"), extra.select("node", pl.col("cluster").cast(pl.Int64))]).unique()


def _near_leads(pe: pl.DataFrame, le: pl.DataFrame) -> pl.DataFrame:
    """Person edges within two hops of a lead's patient members."""
    if pe.is_empty() or le.is_empty():
        return pe.head(0)
    seeds = le.select(pl.col("b").alias("n")).unique()
    hop1 = pe.join(seeds, left_on="a", right_on="n", how="semi").vstack(
        pe.join(seeds, left_on="b", right_on="n", how="semi")
    )
    reach = pl.concat([seeds, hop1.select(pl.col("a").alias("n")), hop1.select(pl.col("b").alias("n"))]).unique()
    near = pe.join(reach, left_on="a", right_on="n", how="semi").vstack(
        pe.join(reach, left_on="b", right_on="n", how="semi")
    )
    return near.unique(["a", "b"])


def _member_rows(ents: pl.DataFrame, leads: pl.DataFrame, lead_part: pl.DataFrame, edges: pl.DataFrame) -> pl.DataFrame:
    """Members with their role (from their strongest lead in the cluster) and weight."""
    split = ents.with_columns(
        pl.col("node").str.split_exact("|", 1).struct.rename_fields(["label", "key"]).alias("lk")
    ).unnest("lk")
    lm = lead_members(leads).join(leads.select("lead_id", "strength"), on="lead_id").join(lead_part, on="lead_id")
    roles = (
        lm.sort("strength", descending=True)
        .group_by("cluster", "label", "key", maintain_order=True)
        .agg(pl.col("role").first(), pl.col("strength").sum().alias("lead_weight"))
    )
    inside = (
        edges.join(ents.rename({"node": "a", "cluster": "ca"}), on="a")
        .join(ents.rename({"node": "b", "cluster": "cb"}), on="b")
        .filter(pl.col("ca") == pl.col("cb"))
        .rename({"ca": "cluster"})
    )
    strength = (
        pl.concat(
            [
                inside.select(pl.col("a").alias("node"), "cluster", "weight"),
                inside.select(pl.col("b").alias("node"), "cluster", "weight"),
            ]
        )
        .group_by("node", "cluster")
        .agg(pl.col("weight").sum().alias("link_weight"))
    )
    out = (
        split.join(roles, on=["cluster", "label", "key"], how="left")
        .join(strength, on=["node", "cluster"], how="left")
        .with_columns(
            pl.col("role").fill_null("linked"),
            (pl.col("lead_weight").fill_null(0) + pl.col("link_weight").fill_null(0)).round(3).alias("weight"),
        )
    )
    return out.select("cluster", "label", "key", "role", "weight")
