"""Explainable cluster scores built from named, weighted signals.

Each detector is one signal. Inside a cluster a signal's *value* is the
noisy-or of its leads' strengths, ``1 − Π(1 − sᵢ)`` (one strong lead or many
weak ones), in [0, 1]; its *contribution* is ``weight × value`` with the
weights of ``settings.detect.weights`` (points); the score is the sum of the
contributions, capped at 100. Two more signals are not detectors:
``amount`` — the fund money at stake, ``(log10(amount) − 3) / 3`` clipped
to [0, 1] (¥1,000 → 0, ¥1,000,000 → 1) — and ``recurrence`` — a member was
rectified or sanctioned and the cluster's claims continue after that date
(屡查屡犯). Linkage signals (shared phone, shared address, amount) count
fully only next to a behavioural one, and a linkage lead then only for the
share of its persons who act in a behavioural lead of the cluster (a care
home's landline does not count in full because one resident's card turned up
in a basket lead); alone they are worth ``LINKAGE_ALONE`` of their value,
because households and nursing homes share phones and addresses honestly.
The money at stake is that of the claims the behavioural leads cite (when
there are any), so a cluster ranks by its evidence, not by how many claims
its members made. The breakdown is kept with the cluster so the UI and the report
show exactly why it ranks where it does.
"""

from __future__ import annotations

import json

import polars as pl

from ringsight.algorithms.clusters import CONTEXT_ROLES, ClusterSet
from ringsight.algorithms.leads import lead_members
from ringsight.config import DetectWeights

#: Signals that link people or measure money but show no fraudulent behaviour by themselves.
LINKAGE = ("shared_phone", "shared_address", "amount")
#: What a linkage signal is worth in a cluster with no behavioural signal.
LINKAGE_ALONE = 0.3

_TZ_DATE = pl.from_epoch(pl.col("claim_ts") + 8 * 3600, time_unit="s").dt.date()


def score_clusters(
    cs: ClusterSet, leads: pl.DataFrame, claims: pl.DataFrame, sanctions: pl.DataFrame, weights: DetectWeights
) -> pl.DataFrame:
    """One row per cluster: score, signals (JSON), explanations, typologies and the money at stake."""
    if cs.leads.is_empty():
        return _empty()
    w = weights.model_dump()
    cl = _corroborated(cs.leads.join(leads, on="lead_id"))
    signals = (
        cl.sort("strength", descending=True)
        .group_by("cluster", "detector", maintain_order=True)
        .agg(
            (1 - (1 - pl.col("strength")).product()).alias("value"),
            pl.len().alias("leads"),
            pl.col("evidence_zh").first(),
            pl.col("evidence_en").first(),
            pl.col("typology").first(),
        )
        .with_columns(pl.col("detector").replace_strict(w, default=0.0, return_dtype=pl.Float64).alias("weight"))
    )
    # Money at stake is what the behavioural leads cite; a phone shared by a care home's residents
    # cites every claim they made, which measures the home's size, not evidence.
    cited = cl.filter(~pl.col("behaviour").any().over("cluster") | pl.col("behaviour"))
    claim_ids = cited.select("cluster", "claim_ids").explode("claim_ids").drop_nulls().unique()
    money = _money(claim_ids.rename({"claim_ids": "claim_id"}), claims)
    extra = pl.concat(
        [
            _amount_signal(money, w.get("amount", 0.0)),
            _recurrence_signal(cs, money, sanctions, w.get("recurrence", 0.0)),
        ],
        how="vertical",
    )
    signals = pl.concat([signals.select(extra.columns), extra], how="vertical")
    # Linkage alone (people sharing a phone or an address, money) is what households and nursing
    # homes look like too: it corroborates a behavioural signal but is discounted without one.
    behaviour = (~pl.col("detector").is_in(LINKAGE)).any().over("cluster")
    signals = signals.with_columns(
        pl.when(pl.col("detector").is_in(LINKAGE) & ~behaviour)
        .then(pl.col("value") * LINKAGE_ALONE)
        .otherwise(pl.col("value"))
        .alias("value")
    ).with_columns((pl.col("weight") * pl.col("value")).round(2).alias("contribution"), pl.col("value").round(3))
    signals = signals.filter(pl.col("contribution") > 0).sort(
        "cluster", "contribution", "detector", descending=[False, True, False]
    )
    per = signals.group_by("cluster", maintain_order=True).agg(
        pl.col("contribution").sum().clip(0, 100).round(1).alias("score"),
        pl.struct(
            "detector", "weight", "value", "contribution", "evidence_zh", "evidence_en", "leads", "typology"
        ).alias("sig"),
    )
    rows = []
    for rec in per.iter_rows(named=True):
        rows.append({"cluster": rec["cluster"], **_explain(rec["score"], rec["sig"])})
    explained = pl.DataFrame(
        rows,
        schema={
            "cluster": pl.Int64,
            "signals": pl.String,
            "typologies": pl.List(pl.String),
            "explanation_zh": pl.String,
            "explanation_en": pl.String,
            "repeat_offender": pl.Boolean,
        },
    )
    counts = cs.members.group_by("cluster").agg(pl.len().alias("member_count"))
    out = (
        per.select("cluster", "score")
        .join(explained, on="cluster")
        .join(counts, on="cluster")
        .join(money, on="cluster", how="left")
        .sort("score", "member_count", "cluster", descending=[True, True, False])
    )
    return out


def _corroborated(cl: pl.DataFrame) -> pl.DataFrame:
    """The cluster's leads, a linkage lead's strength scaled by the share of its persons who act in a
    behavioural lead of the same cluster (when there is one); column ``behaviour`` marks those leads.

    Why: a linkage lead joins a cluster through one shared person (a care-home resident whose card
    also turned up in a basket lead), and would then count in full as if the whole home took part.
    It corroborates a behaviour only for the people who show it.
    """
    cl = cl.with_columns((~pl.col("detector").is_in(LINKAGE)).alias("behaviour"))
    people = (
        lead_members(cl)
        .filter(pl.col("label") == "Patient")
        .join(cl.select("lead_id", "cluster", "behaviour"), on="lead_id")
        .select("cluster", "lead_id", "behaviour", "key")
    )
    acting = (
        people.filter(pl.col("behaviour")).select("cluster", "key").unique().with_columns(pl.lit(True).alias("acts"))
    )
    share = (
        people.filter(~pl.col("behaviour"))
        .join(acting, on=["cluster", "key"], how="left")
        .group_by("lead_id")
        .agg(pl.col("acts").fill_null(False).mean().alias("share"))
    )
    return (
        cl.join(share, on="lead_id", how="left")
        .with_columns(
            pl.when(pl.col("behaviour").any().over("cluster") & ~pl.col("behaviour"))
            .then(pl.col("strength") * pl.col("share").fill_null(0.0))
            .otherwise(pl.col("strength"))
            .alias("strength")
        )
        .drop("share")
    )


def _empty() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "cluster": pl.Int64,
            "score": pl.Float64,
            "signals": pl.String,
            "typologies": pl.List(pl.String),
            "explanation_zh": pl.String,
            "explanation_en": pl.String,
            "repeat_offender": pl.Boolean,
            "member_count": pl.UInt32,
            "claim_count": pl.UInt32,
            "claim_ids": pl.List(pl.String),
            "amount": pl.Float64,
            "fund_amount": pl.Float64,
            "facilities": pl.List(pl.String),
            "district": pl.String,
            "date_from": pl.String,
            "date_to": pl.String,
            "first_ts": pl.Int64,
            "last_ts": pl.Int64,
        }
    )


def _money(claim_ids: pl.DataFrame, claims: pl.DataFrame) -> pl.DataFrame:
    rows = claim_ids.join(
        claims.select(
            "claim_id",
            "claim_ts",
            "total_amount",
            "fund_paid",
            pl.col("facility_code").cast(pl.String),
            pl.col("district").cast(pl.String),
        ),
        on="claim_id",
    )
    return rows.group_by("cluster").agg(
        pl.len().cast(pl.UInt32).alias("claim_count"),
        pl.col("claim_id").sort().alias("claim_ids"),
        pl.col("total_amount").sum().round(2).alias("amount"),
        pl.col("fund_paid").fill_null(0).sum().round(2).alias("fund_amount"),
        pl.col("facility_code")
        .drop_nulls()
        .value_counts(sort=True)
        .struct.field("facility_code")
        .head(5)
        .alias("facilities"),
        pl.col("district").drop_nulls().mode().sort().first().alias("district"),
        _TZ_DATE.min().cast(pl.String).alias("date_from"),
        _TZ_DATE.max().cast(pl.String).alias("date_to"),
        pl.col("claim_ts").min().alias("first_ts"),
        pl.col("claim_ts").max().alias("last_ts"),
    )


def _signal_frame(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.select(
        pl.col("cluster").cast(pl.Int64),
        pl.col("detector").cast(pl.String),
        pl.col("value").cast(pl.Float64),
        pl.col("leads").cast(pl.UInt32),
        pl.col("evidence_zh").cast(pl.String),
        pl.col("evidence_en").cast(pl.String),
        pl.col("typology").cast(pl.String),
        pl.col("weight").cast(pl.Float64),
    )


def _amount_signal(money: pl.DataFrame, weight: float) -> pl.DataFrame:
    amount = pl.max_horizontal(pl.col("fund_amount"), pl.col("amount")).clip(1, None)
    rows = money.select(
        "cluster",
        pl.lit("amount").alias("detector"),
        ((amount.log10() - 3) / 3).clip(0, 1).alias("value"),
        pl.lit(1).alias("leads"),
        pl.format("涉及金额 ¥{}（统筹基金 ¥{}）", pl.col("amount"), pl.col("fund_amount")).alias("evidence_zh"),
        pl.format("¥{} at stake (¥{} from the pooled fund)", pl.col("amount"), pl.col("fund_amount")).alias(
            "evidence_en"
        ),
        pl.lit(None, dtype=pl.String).alias("typology"),
        pl.lit(weight).alias("weight"),
    )
    return _signal_frame(rows)


def _recurrence_signal(cs: ClusterSet, money: pl.DataFrame, sanctions: pl.DataFrame, weight: float) -> pl.DataFrame:
    # only members that acted (not the places a lead merely passed through) make a repeat offender
    acting = cs.members.filter(~pl.col("role").is_in(CONTEXT_ROLES))
    hits = acting.join(sanctions, on=["label", "key"]).join(money.select("cluster", "last_ts"), on="cluster")
    hits = hits.filter(pl.col("last_ts") > pl.col("until_ts").fill_null(pl.col("from_ts")))
    rows = (
        hits.group_by("cluster")
        .agg(pl.col("key").first(), pl.col("label").first(), pl.col("kind").first(), pl.len().alias("leads"))
        .select(
            "cluster",
            pl.lit("recurrence").alias("detector"),
            pl.lit(1.0).alias("value"),
            "leads",
            pl.format("{} {} 曾被处理（{}），整改期后再次出现", pl.col("label"), pl.col("key"), pl.col("kind")).alias(
                "evidence_zh"
            ),
            pl.format(
                "{} {} was sanctioned ({}) and appears again after the rectification",
                pl.col("label"),
                pl.col("key"),
                pl.col("kind"),
            ).alias("evidence_en"),
            pl.lit("recurrence").alias("typology"),
            pl.lit(weight).alias("weight"),
        )
    )
    return _signal_frame(rows)


def _explain(score: float, sigs: list[dict]) -> dict:
    """Signals JSON, typologies and the zh/en explanations of one cluster."""
    signals = [
        {
            "name": s["detector"],
            "weight": s["weight"],
            "value": s["value"],
            "contribution": s["contribution"],
            "evidence_zh": s["evidence_zh"] + (f"（另有 {s['leads'] - 1} 条同类线索）" if s["leads"] > 1 else ""),
            "evidence_en": s["evidence_en"] + (f" (and {s['leads'] - 1} more like it)" if s["leads"] > 1 else ""),
        }
        for s in sigs
    ]
    typed = [s for s in sigs if s["typology"]]
    top = max((s["contribution"] for s in typed), default=0.0)
    # a repeat offender is named first: coming back after a rectification is what decides the response
    typologies: list[str] = ["recurrence"] if any(s["detector"] == "recurrence" for s in sigs) else []
    for s in typed:
        if s["contribution"] >= 0.5 * top and s["typology"] not in typologies:
            typologies.append(s["typology"])
    zh = f"得分 {score:g}：" + "；".join(f"{s['evidence_zh']}（+{s['contribution']:g}）" for s in signals[:4])
    en = f"score {score:g}: " + "; ".join(f"{s['evidence_en']} (+{s['contribution']:g})" for s in signals[:4])
    return {
        "signals": json.dumps(signals, ensure_ascii=False),
        "typologies": typologies,
        "explanation_zh": zh,
        "explanation_en": en,
        "repeat_offender": any(s["detector"] == "recurrence" for s in sigs),
    }
