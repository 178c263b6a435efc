"""Prescription-flow detectors: doctor–pharmacy collusion and drug shopping for resale.

*Doctor–pharmacy collusion* (处方外流, 内外勾结). The base: a doctor sends at
least ``doctor_pharmacy_min_share`` of their externally filled prescriptions
(``doctor_pharmacy_min_rx`` or more) to one pharmacy. Concentration alone is
what the pharmacy by the hospital gate looks like, so a pair is a lead only
when ``doctor_pharmacy_min_cues`` or more of these independent cues agree:

- **lift** — the share is ``doctor_pharmacy_min_lift`` times or more the
  share of the same pharmacy among the same facility's other doctors (all
  external prescriptions when the doctor has no colleagues in the data);
- **no visit** — 20 % or more of the fills have no visit to the doctor in the
  three days before;
- **one operator** — one operator settled 90 % or more of the fills;
- **far** — the pharmacy is ``doctor_pharmacy_min_km`` km or more from the
  doctor's facility, in another county (county seats, :mod:`ringsight.algorithms.geo`);
- **big fills** — the median fill is ``doctor_pharmacy_fill_ratio`` times or
  more the usual quantity of the same drug (its median over all pharmacy fills).

Look-alikes ruled out: the pharmacy by the hospital gate filling most of
every doctor's prescriptions (no lift, near, normal fills), the one by the gate
filling one doctor's prescriptions at normal quantities right after visits
(lift only), and the specialty pharmacy that fills an oncologist's
prescriptions right after each visit (lift only).

*Drug shopping* (套取药品倒卖): one person buys the same drug at
``shopping_min_pharmacies`` or more pharmacies, at least
``shopping_min_packs`` packs, five times the median buyer's quantity and
``shopping_min_amount`` yuan (the resold drugs are the expensive ones).
"""

from __future__ import annotations

import polars as pl

from ringsight.algorithms import geo
from ringsight.algorithms.lazy import Items, collect
from ringsight.algorithms.leads import finish, member, member_list, numbers_json
from ringsight.config import DetectThresholds

DP_CUES = ("lift_cue", "no_visit_cue", "one_operator", "far", "big_fills")


def _drug_lines(items: Items) -> pl.LazyFrame:
    """Drug lines of claim items (category ``drug``, or Western/Chinese drug codes X…/Z… when uncategorised)."""
    return items.lazy().filter(
        (pl.col("item_category") == "drug")
        | (pl.col("item_category").is_null() & pl.col("item_code").cast(pl.String).str.slice(0, 1).is_in(["X", "Z"]))
    )


def _fill_ratio(claims: pl.DataFrame, items: Items, rx_claims: pl.DataFrame) -> pl.DataFrame:
    """Per candidate prescription claim: the median of quantity / the drug's usual (median) fill quantity."""
    if rx_claims.is_empty():
        return pl.DataFrame(schema={"claim_id": pl.String, "fill_ratio": pl.Float64})
    pharmacy = claims.lazy().filter(pl.col("facility_kind") == "pharmacy").select("claim_id")
    drugs = _drug_lines(items).select(
        "claim_id", pl.col("item_code").cast(pl.String).hash(seed=13).alias("ih"), "quantity"
    )
    mine = collect(drugs.join(rx_claims.lazy().select("claim_id"), on="claim_id", how="semi"))
    if mine.is_empty():
        return pl.DataFrame(schema={"claim_id": pl.String, "fill_ratio": pl.Float64})
    usual = collect(
        drugs.filter(pl.col("ih").is_in(mine["ih"].unique().implode()))
        .join(pharmacy, on="claim_id", how="semi")
        .group_by("ih")
        .agg(pl.col("quantity").median().alias("usual"))
    )
    return (
        mine.join(usual, on="ih")
        .with_columns((pl.col("quantity") / pl.col("usual").clip(1e-6, None)).alias("r"))
        .group_by("claim_id")
        .agg(pl.col("r").max().alias("fill_ratio"))
        .with_columns(pl.col("claim_id").cast(pl.String))
    )


def doctor_pharmacy(claims: pl.DataFrame, items: Items, t: DetectThresholds) -> pl.DataFrame:
    """Doctors sending most of their prescriptions to one pharmacy, with corroborating cues."""
    rx = (
        claims.lazy()
        .filter((pl.col("facility_kind") == "pharmacy") & pl.col("doctor_code").is_not_null())
        .select("claim_id", "pid", "doctor_code", "facility_code", "claim_ts", "operator_id", "total_amount")
        .collect()
    )
    if rx.is_empty():
        return finish(rx, "doctor_pharmacy", "doctor_pharmacy")
    home = (
        claims.lazy()
        .filter((pl.col("facility_kind") != "pharmacy") & pl.col("doctor_code").is_not_null())
        .group_by("doctor_code", "facility_code")
        .agg(pl.len().alias("n"))
        .sort("n", "facility_code", descending=[True, False])
        .unique("doctor_code", keep="first")
        .select("doctor_code", pl.col("facility_code").alias("home"))
        .collect()
    )
    rx = rx.join(home, on="doctor_code", how="left").with_columns(pl.col("home").cast(pl.String).fill_null("?"))
    # the base: a doctor's prescriptions concentrated on one pharmacy
    counts = rx.group_by("doctor_code", "facility_code").agg(pl.len().alias("n_dp"))
    counts = counts.with_columns(pl.col("n_dp").sum().over("doctor_code").alias("n_d")).filter(
        (pl.col("n_dp") >= t.doctor_pharmacy_min_rx) & (pl.col("n_dp") / pl.col("n_d") >= t.doctor_pharmacy_min_share)
    )
    candidates = rx.join(counts.select("doctor_code", "facility_code"), on=["doctor_code", "facility_code"], how="semi")
    rx = rx.join(_visited(claims, candidates), on="claim_id", how="left")
    rx = rx.join(_fill_ratio(claims, items, candidates), on="claim_id", how="left")
    dp = rx.group_by("doctor_code", "home", "facility_code").agg(
        pl.len().alias("n_dp"),
        (1 - pl.col("visited").fill_null(False).mean()).round(2).alias("no_visit"),
        (pl.col("operator_id").drop_nulls().value_counts().struct.field("count").max().fill_null(0) / pl.len())
        .round(2)
        .alias("top_operator"),
        pl.col("fill_ratio").median().round(1).alias("fill_ratio"),
        pl.col("claim_id").alias("claim_ids"),
        pl.col("pid").drop_nulls().unique().sort().alias("pids"),
        pl.col("total_amount").sum().round(2).alias("amount"),
    )
    dp = (
        dp.with_columns(
            pl.col("n_dp").sum().over("doctor_code").alias("n_d"),
            pl.col("n_dp").sum().over("home", "facility_code").alias("n_hp"),
            pl.col("n_dp").sum().over("home").alias("n_h"),
            pl.col("n_dp").sum().over("facility_code").alias("n_p"),
            pl.col("n_dp").sum().alias("n_all"),
        )
        .with_columns(
            (pl.col("n_dp") / pl.col("n_d")).alias("share"),
            pl.when((pl.col("home") != "?") & (pl.col("n_h") - pl.col("n_d") >= 10))
            .then((pl.col("n_hp") - pl.col("n_dp")) / (pl.col("n_h") - pl.col("n_d")))
            .otherwise((pl.col("n_p") - pl.col("n_dp")) / (pl.col("n_all") - pl.col("n_d")).clip(1, None))
            .alias("peer_share"),
        )
        .with_columns((pl.col("share") / pl.col("peer_share").clip(0.01, None)).round(1).alias("lift"))
    )
    dp = dp.filter((pl.col("n_dp") >= t.doctor_pharmacy_min_rx) & (pl.col("share") >= t.doctor_pharmacy_min_share))
    dp = geo.with_distance(dp.with_columns(pl.col("facility_code").cast(pl.String)), "home", "facility_code")
    dp = dp.with_columns(
        (pl.col("lift") >= t.doctor_pharmacy_min_lift).alias("lift_cue"),
        (pl.col("no_visit") >= 0.2).alias("no_visit_cue"),
        (pl.col("top_operator") >= 0.9).alias("one_operator"),
        (
            (pl.col("km") >= t.doctor_pharmacy_min_km)
            & (geo.division_of(pl.col("facility_code")) != geo.division_of(pl.col("home")))
        )
        .fill_null(False)
        .alias("far"),
        (pl.col("fill_ratio") >= t.doctor_pharmacy_fill_ratio).fill_null(False).alias("big_fills"),
    ).with_columns(pl.sum_horizontal([pl.col(c).cast(pl.Int32) for c in DP_CUES]).alias("cues"))
    hits = dp.filter(pl.col("cues") >= t.doctor_pharmacy_min_cues).with_columns(
        pl.col("share").round(2), pl.col("peer_share").round(3)
    )
    cue_names = pl.concat_str([pl.when(pl.col(c)).then(pl.lit(c)) for c in DP_CUES], separator=", ", ignore_nulls=True)
    out = hits.with_columns(
        ((pl.col("cues") / len(DP_CUES)) * 0.6 + pl.col("share") * 0.4).alias("strength"),
        pl.format(
            "医师 {} 的外配处方 {}% 流向药店 {}（{} 张，距 {} 公里，同院其他医师仅 {}%；"
            "单次配药量为常量的 {} 倍；线索：{}）",
            pl.col("doctor_code"),
            (pl.col("share") * 100).round(0),
            pl.col("facility_code"),
            pl.col("n_dp"),
            pl.col("km").cast(pl.String).fill_null("?"),
            (pl.col("peer_share") * 100).round(1),
            pl.col("fill_ratio").cast(pl.String).fill_null("?"),
            cue_names,
        ).alias("evidence_zh"),
        pl.format(
            "{}% of doctor {}'s filled prescriptions ({}) go to pharmacy {} {} km away, vs {}% for colleagues "
            "({}× lift); fills {}× the usual quantity; cues: {}",
            (pl.col("share") * 100).round(0),
            pl.col("doctor_code"),
            pl.col("n_dp"),
            pl.col("facility_code"),
            pl.col("km").cast(pl.String).fill_null("?"),
            (pl.col("peer_share") * 100).round(1),
            pl.col("lift"),
            pl.col("fill_ratio").cast(pl.String).fill_null("?"),
            cue_names,
        ).alias("evidence_en"),
        numbers_json(
            "n_dp",
            "n_d",
            "share",
            "peer_share",
            "lift",
            "no_visit",
            "top_operator",
            "km",
            "fill_ratio",
            "cues",
            *DP_CUES,
            "amount",
        ).alias("numbers"),
        pl.concat_list(
            pl.concat_list(member("Doctor", "doctor_code", "prescriber")),
            pl.concat_list(member("Facility", "facility_code", "pharmacy")),
            member_list("Patient", "pids", "rx_patient"),
        ).alias("members"),
    )
    return finish(out, "doctor_pharmacy", "doctor_pharmacy")


def _visited(claims: pl.DataFrame, rx: pl.DataFrame, days: int = 3) -> pl.DataFrame:
    """For each filled prescription: did the patient see the prescribing doctor in the days before?"""
    visits = (
        claims.lazy()
        .filter((pl.col("facility_kind") != "pharmacy") & pl.col("doctor_code").is_not_null())
        .select("pid", "doctor_code", pl.col("claim_ts").alias("visit_ts"))
    )
    pairs = rx.lazy().select("claim_id", "pid", "doctor_code", "claim_ts").join(visits, on=["pid", "doctor_code"])
    ok = pairs.filter(
        (pl.col("visit_ts") <= pl.col("claim_ts")) & (pl.col("visit_ts") >= pl.col("claim_ts") - days * 86_400)
    )
    return collect(ok.select("claim_id").unique()).with_columns(pl.lit(True).alias("visited"))


def drug_shopping(claims: pl.DataFrame, items: Items, t: DetectThresholds) -> pl.DataFrame:
    """Persons buying the same drug at many pharmacies in quantities beyond need."""
    # Two streaming passes over the items: the per-person totals of every drug (the median needs
    # them all), grouped on a 64-bit hash of the drug code; then the rows of the few hits only.
    drugs = (
        _drug_lines(items)
        .select("claim_id", pl.col("item_code").cast(pl.String), "quantity", "amount")
        .with_columns(pl.col("item_code").hash(seed=3).alias("ih"))
    )
    pharmacy = (
        claims.lazy()
        .filter(pl.col("facility_kind") == "pharmacy")
        .select("claim_id", "pid", "card_id", "facility_code")
    )
    per = collect(
        drugs.select("claim_id", "ih", "quantity", "amount")
        .join(pharmacy.select("claim_id", "pid", "facility_code"), on="claim_id")
        .group_by("pid", "ih")
        .agg(
            pl.col("facility_code").n_unique().alias("n_pharm"),
            pl.col("quantity").sum().alias("packs"),
            pl.col("amount").sum().round(2).alias("amount"),
        )
    ).with_columns(pl.col("packs").median().over("ih").alias("median_packs"))
    hits = per.filter(
        (pl.col("n_pharm") >= t.shopping_min_pharmacies)
        & (pl.col("packs") >= t.shopping_min_packs)
        & (pl.col("packs") >= 5 * pl.col("median_packs"))
        & (pl.col("amount") >= t.shopping_min_amount)
    )
    if hits.is_empty():
        return finish(hits, "drug_shopping", "reselling")
    detail = (
        collect(
            drugs.filter(pl.col("ih").is_in(hits["ih"].unique().implode()))
            .join(pharmacy, on="claim_id")
            .join(hits.lazy().select("pid", "ih"), on=["pid", "ih"], how="semi")
        )
        .sort("claim_id")
        .group_by("pid", "ih")
        .agg(
            pl.col("item_code").first(),
            pl.col("facility_code").unique().sort().alias("pharmacies"),
            pl.col("claim_id").unique().alias("claim_ids"),
            pl.col("card_id").drop_nulls().first().alias("card_id"),
        )
    )
    hits = hits.join(detail, on=["pid", "ih"])
    out = hits.with_columns(
        (
            (pl.col("n_pharm") / (2 * t.shopping_min_pharmacies)).clip(0, 1) * 0.5
            + (pl.col("packs") / (3 * t.shopping_min_packs)).clip(0, 1) * 0.5
        ).alias("strength"),
        pl.format(
            "参保人在 {} 家药店购买同一药品 {} 共 {} 盒（中位数 {} 盒）",
            pl.col("n_pharm"),
            pl.col("item_code"),
            pl.col("packs"),
            pl.col("median_packs"),
        ).alias("evidence_zh"),
        pl.format(
            "one person bought drug {} at {} pharmacies, {} packs (median buyer {})",
            pl.col("item_code"),
            pl.col("n_pharm"),
            pl.col("packs"),
            pl.col("median_packs"),
        ).alias("evidence_en"),
        numbers_json("n_pharm", "packs", "median_packs", "amount").alias("numbers"),
        pl.concat_list(
            pl.concat_list(member("Patient", "pid", "buyer")),
            pl.concat_list(member("Card", "card_id", "buyer_card")),
            member_list("Facility", "pharmacies", "shop_pharmacy"),
        ).alias("members"),
    )
    return finish(out, "drug_shopping", "reselling")
