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

*Drug shopping* (套取药品倒卖). The base: one person buys a drug at
``shopping_min_pharmacies`` or more pharmacies, five times the usual buyer's
quantity or more (quantities beyond need: the median over the buyers at fewer
pharmacies, so a ring that buys most of a rare drug does not set its own
yardstick) and ``shopping_min_packs`` packs or more. Many chronic patients do that with cheap drugs at the shops around
them, so a buyer is a lead only when at least ``shopping_min_cues`` of these
cues agree over the drugs they buy so, money among them or together with
dear drug (resale is for the money, or for the dealer who drives the buyers;
a lone heavy buyer of cheap drugs is a chronic patient, a couple stocking up
shares a home):

- **money** — ``shopping_min_amount`` yuan or more over all such drugs (a
  dealer's buyers spread their money over several drugs);
- **dear drug** — ``shopping_dear_price`` yuan a pack or more on average (the
  resold drugs are the expensive ones);
- **several drugs** — two or more such drugs;
- **many pharmacies** — twice ``shopping_min_pharmacies`` pharmacies or more;
- **together** — at two or more pharmacies the buyer bought a drug less than
  ``burst_minutes`` after or before another such buyer (a dealer's car doing
  the rounds with the holders it recruited).

How many counties the pharmacies lie in is reported, not counted: a buyer at
three shops of a city crosses a county line nearly always.

Look-alikes ruled out: a chronic patient refilling one cheap drug at a few
pharmacies (packs only), a cancer patient buying a dear drug monthly at the
designated pharmacies (money only, never five times the usual quantity).

The scans (Narwhals: Polars here or Spark, see :mod:`ringsight.algorithms.engine`)
count every doctor–pharmacy pair and gather the rows of the concentrated pairs
with their visit check and fill ratios, and, for drug shopping, every person's
totals per drug with the drug's median buyer; the cues, sentences and member
lists are then made in Polars on those few rows.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from ringsight.algorithms import geo
from ringsight.algorithms.engine import Source, source_of
from ringsight.algorithms.lazy import Items
from ringsight.algorithms.leads import finish, member, member_list, numbers_json
from ringsight.config import DetectThresholds

DP_CUES = ("lift_cue", "no_visit_cue", "one_operator", "far", "big_fills")
SHOPPING_CUES = ("money_cue", "dear_drug", "several_drugs", "many_pharmacies", "together")
Frame = nw.LazyFrame[Any]
#: Keys as the finish reads them whatever the engine (Spark has no categoricals).
_KEYS = (
    "claim_id",
    "pid",
    "card_id",
    "doctor_code",
    "home",
    "facility_code",
    "operator_id",
    "item_code",
    "address_key",
)


def _strings(frame: pl.DataFrame) -> pl.DataFrame:
    """A collected scan's key columns as text (categoricals on Polars, strings on Spark)."""
    return frame.with_columns(pl.col(c).cast(pl.String) for c in _KEYS if c in frame.columns)


def _few(keys: pl.Series) -> list[Any]:
    """The distinct non-null values of a few drug keys, as a literal list for ``is_in``.

    Drugs are a catalogue (thousands at most), so filtering by a list is cheaper than a join (half
    the CPU on Polars at 1M claims); unbounded keys (claims, persons) are joined with ``to_engine``.
    """
    return keys.drop_nulls().unique().sort().to_list()


def _drug_lines(items: Frame) -> Frame:
    """Drug lines of claim items (category ``drug``, or Western/Chinese drug codes X…/Z… when uncategorised)."""
    code = nw.col("item_code").cast(nw.String)
    return items.filter(
        (nw.col("item_category") == "drug")
        | (nw.col("item_category").is_null() & (code.str.starts_with("X") | code.str.starts_with("Z")))
    )


def _home(claims: Frame) -> Frame:
    """Each doctor's home facility: where they have the most non-pharmacy claims (a tie: the smallest code)."""
    seen = (
        claims.filter((nw.col("facility_kind") != "pharmacy") & ~nw.col("doctor_code").is_null())
        .group_by("doctor_code", "facility_code")
        .agg(nw.len().alias("n"))
    )
    top = seen.filter(nw.col("n") == nw.col("n").max().over("doctor_code"))
    return top.group_by("doctor_code").agg(nw.col("facility_code").cast(nw.String).min().alias("home"))


def _prescriptions(claims: Frame) -> Frame:
    """Filled prescriptions (pharmacy claims naming a doctor) with the doctor's home facility (``?``: none)."""
    rx = claims.filter((nw.col("facility_kind") == "pharmacy") & ~nw.col("doctor_code").is_null()).select(
        "claim_id", "pid", "doctor_code", "facility_code", "claim_ts", "operator_id", "total_amount"
    )
    return rx.join(_home(claims), on="doctor_code", how="left").with_columns(nw.col("home").fill_null("?"))


def _concentrated(rx: Frame, t: DetectThresholds) -> Frame:
    """The base: (doctor, pharmacy) pairs of ``doctor_pharmacy_min_rx`` fills or more, and enough of the doctor's."""
    pairs = rx.group_by("doctor_code", "facility_code").agg(nw.len().alias("n_dp"))
    pairs = pairs.with_columns(nw.col("n_dp").sum().over("doctor_code").alias("n_d"))
    return pairs.filter(
        (nw.col("n_dp") >= t.doctor_pharmacy_min_rx) & (nw.col("n_dp") / nw.col("n_d") >= t.doctor_pharmacy_min_share)
    ).select("doctor_code", "facility_code")


def _visited(claims: Frame, rx: Frame, days: int = 3) -> Frame:
    """Per filled prescription: did the patient see the prescribing doctor in the days before (claim_id, visited)?"""
    visits = claims.filter((nw.col("facility_kind") != "pharmacy") & ~nw.col("doctor_code").is_null()).select(
        "pid", "doctor_code", nw.col("claim_ts").alias("visit_ts")
    )
    pairs = rx.select("claim_id", "pid", "doctor_code", "claim_ts").join(visits, on=["pid", "doctor_code"])
    ok = pairs.filter(
        (nw.col("visit_ts") <= nw.col("claim_ts")) & (nw.col("visit_ts") >= nw.col("claim_ts") - days * 86_400)
    )
    return ok.select("claim_id").unique().with_columns(nw.lit(True).alias("visited"))


def prescription_scan(src: Source, t: DetectThresholds) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The scan: every (doctor, home, pharmacy) pair's fill count, and the rows of the concentrated pairs.

    The rows carry ``visited`` (the visit check, a join of the candidates to the visits); pairs are
    few (doctors × their pharmacies), rows only those of the concentrated pairs.
    """
    rx = _prescriptions(src.claims)
    pairs = src.collect(rx.group_by("doctor_code", "home", "facility_code").agg(nw.len().alias("n_dp")))
    candidates = rx.join(_concentrated(rx, t), on=["doctor_code", "facility_code"], how="semi")
    rows = src.collect(candidates.join(_visited(src.claims, candidates), on="claim_id", how="left"))
    return _strings(pairs).with_columns(pl.col("n_dp").cast(pl.Int64)), _strings(rows)


def _fill_ratio(src: Source, rows: pl.DataFrame) -> pl.DataFrame:
    """Per candidate prescription claim: the largest quantity / the drug's usual (median) pharmacy fill.

    Two passes over the items: the drug lines of the candidate claims, then the pharmacy fills of
    those drugs only (the median needs them all).
    """
    empty = pl.DataFrame(schema={"claim_id": pl.String, "fill_ratio": pl.Float64})
    if rows.is_empty():
        return empty
    drugs = _drug_lines(src.item_lines()).select("claim_id", nw.col("item_code").cast(nw.String), "quantity")
    mine = _strings(src.collect(drugs.join(src.to_engine(rows.select("claim_id")), on="claim_id", how="semi")))
    if mine.is_empty():
        return empty
    pharmacy = src.claims.filter(nw.col("facility_kind") == "pharmacy").select("claim_id")
    usual = src.collect(
        drugs.filter(nw.col("item_code").is_in(_few(mine["item_code"])))  # drugs: a catalogue, a literal list
        .join(pharmacy, on="claim_id", how="semi")
        .group_by("item_code")
        .agg(nw.col("quantity").median().alias("usual"))
    )
    return (
        mine.join(_strings(usual), on="item_code", nulls_equal=True)
        .with_columns((pl.col("quantity") / pl.col("usual").clip(1e-6, None)).alias("r"))
        .group_by("claim_id")
        .agg(pl.col("r").max().alias("fill_ratio"))
    )


def doctor_pharmacy(claims: pl.DataFrame | Source, items: Items, t: DetectThresholds) -> pl.DataFrame:
    """Doctors sending most of their prescriptions to one pharmacy, with corroborating cues."""
    src = source_of(claims, items)
    pairs, rx = prescription_scan(src, t)
    if rx.is_empty():
        return finish(rx, "doctor_pharmacy", "doctor_pharmacy")
    rx = rx.join(_fill_ratio(src, rx), on="claim_id", how="left")
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
    # the peers: every pair's count, over the doctor, the facility's doctors, the pharmacy, all
    peers = pairs.with_columns(
        pl.col("n_dp").sum().over("doctor_code").alias("n_d"),
        pl.col("n_dp").sum().over("home", "facility_code").alias("n_hp"),
        pl.col("n_dp").sum().over("home").alias("n_h"),
        pl.col("n_dp").sum().over("facility_code").alias("n_p"),
        pl.col("n_dp").sum().alias("n_all"),
    ).drop("n_dp")
    dp = dp.join(peers, on=["doctor_code", "home", "facility_code"], nulls_equal=True)
    dp = dp.with_columns(
        (pl.col("n_dp") / pl.col("n_d")).alias("share"),
        pl.when((pl.col("home") != "?") & (pl.col("n_h") - pl.col("n_d") >= 10))
        .then((pl.col("n_hp") - pl.col("n_dp")) / (pl.col("n_h") - pl.col("n_d")))
        .otherwise((pl.col("n_p") - pl.col("n_dp")) / (pl.col("n_all") - pl.col("n_d")).clip(1, None))
        .alias("peer_share"),
    ).with_columns((pl.col("share") / pl.col("peer_share").clip(0.01, None)).round(1).alias("lift"))
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


def shopping_scan(src: Source, t: DetectThresholds) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The scan: per (person, drug) bought at several pharmacies beyond need, the totals; then those purchases' rows.

    Drugs are grouped on a 64-bit hash of their code (``ih``, made by the engine); the per-person
    totals of every drug stay on the engine (the median buyer needs them all) and only the base
    hits come back (few), then a second pass gathers their purchase rows. The cues are counted in
    the finish.
    """
    drugs = src.with_hash(
        _drug_lines(src.item_lines()).select("claim_id", nw.col("item_code").cast(nw.String), "quantity", "amount"),
        "ih",
        "item_code",
    )
    pharmacy = src.claims.filter(nw.col("facility_kind") == "pharmacy").select(
        "claim_id", "pid", "card_id", "facility_code", "claim_ts", "address_key"
    )
    per = (
        drugs.select("claim_id", "ih", "quantity", "amount")
        .join(pharmacy.select("claim_id", "pid", "facility_code"), on="claim_id")
        .group_by("pid", "ih")
        .agg(
            nw.col("facility_code").n_unique().alias("n_pharm"),
            nw.col("quantity").sum().alias("packs"),
            nw.col("amount").sum().alias("amount"),
        )
    )
    # the usual buyer: the median over buyers at one or two pharmacies (when a rare dear drug is bought
    # mostly by a ring's members, the median over everyone is theirs); else over everyone
    few = nw.when(nw.col("n_pharm") < t.shopping_min_pharmacies).then(nw.col("packs"))
    usual = (
        per.group_by("ih")  # Spark: no median().over()
        .agg(few.median().alias("median_few"), nw.col("packs").median().alias("median_all"))
        .select("ih", nw.col("median_few").fill_null(nw.col("median_all")).alias("median_packs"))
    )
    hits = src.collect(
        per.join(usual, on="ih").filter(
            (nw.col("n_pharm") >= t.shopping_min_pharmacies)
            & (nw.col("packs") >= t.shopping_min_packs)
            & (nw.col("packs") >= 5 * nw.col("median_packs"))
        )
    )
    if hits.is_empty():
        return hits, hits
    mine = (
        drugs.filter(nw.col("ih").is_in(_few(hits["ih"])))  # the hit drugs first: most lines go here
        .join(pharmacy, on="claim_id")
        .join(src.to_engine(hits.select("pid", "ih")), on=["pid", "ih"], how="semi")
    )
    return hits, src.collect(mine)


def drug_shopping(claims: pl.DataFrame | Source, items: Items, t: DetectThresholds) -> pl.DataFrame:
    """Persons buying drugs at many pharmacies in quantities beyond need, with the cues that make it resale."""
    hits, rows = shopping_scan(source_of(claims, items), t)
    if hits.is_empty():
        return finish(_strings(hits), "drug_shopping", "reselling")
    per_drug = _strings(hits).join(
        _strings(rows)
        .sort("claim_id")
        .group_by("pid", "ih")
        .agg(
            pl.col("item_code").first(),
            pl.col("facility_code").unique().sort().alias("pharmacies"),
            pl.col("claim_id").unique().alias("claim_ids"),
            pl.col("card_id").drop_nulls().first().alias("card_id"),
        ),
        on=["pid", "ih"],
        nulls_equal=True,
    )
    people = _shopping_cues(per_drug, _bought_together(_strings(rows), t), t).filter(
        (pl.col("cues") >= t.shopping_min_cues) & (pl.col("money_cue") | (pl.col("together") & pl.col("dear_drug")))
    )
    cue_names = pl.concat_str(
        [pl.when(pl.col(c)).then(pl.lit(c)) for c in SHOPPING_CUES], separator=", ", ignore_nulls=True
    )
    out = people.with_columns(
        (
            (pl.col("cues") / len(SHOPPING_CUES)) * 0.5
            + (pl.col("n_pharm") / (2 * t.shopping_min_pharmacies)).clip(0, 1) * 0.25
            + (pl.col("packs") / (3 * t.shopping_min_packs)).clip(0, 1) * 0.25
        ).alias("strength"),
        pl.format(
            "参保人在 {} 家药店超量购买{}（{} 单品 {} 盒，为一般购药量的 {} 倍），共 {} 元；线索：{}",
            pl.col("n_pharm"),
            pl.when(pl.col("n_drugs") > 1)
            .then(pl.format("{} 种药品", pl.col("n_drugs")))
            .otherwise(pl.lit("同一药品")),
            pl.col("item_code"),
            pl.col("packs").round(0).cast(pl.Int64),
            pl.col("over_median"),
            pl.col("amount").round(0).cast(pl.Int64),
            cue_names,
        ).alias("evidence_zh"),
        pl.format(
            "one person bought {} at {} pharmacies beyond need ({}: {} packs, {}× the median buyer), "
            "{} CNY in all; cues: {}",
            pl.when(pl.col("n_drugs") > 1).then(pl.format("{} drugs", pl.col("n_drugs"))).otherwise(pl.lit("one drug")),
            pl.col("n_pharm"),
            pl.col("item_code"),
            pl.col("packs").round(0).cast(pl.Int64),
            pl.col("over_median"),
            pl.col("amount").round(0).cast(pl.Int64),
            cue_names,
        ).alias("evidence_en"),
        numbers_json(
            "n_drugs",
            "n_pharm",
            "packs",
            "median_packs",
            "over_median",
            "amount",
            "price",
            "n_counties",
            "cues",
            *SHOPPING_CUES,
        ).alias("numbers"),
        pl.concat_list(
            pl.concat_list(member("Patient", "pid", "buyer")),
            pl.concat_list(member("Card", "card_id", "buyer_card")),
            member_list("Facility", "pharmacies", "shop_pharmacy"),
        ).alias("members"),
    )
    return finish(out, "drug_shopping", "reselling")


def _bought_together(rows: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """pid → together: the buyer bought a drug at the same pharmacy as another such buyer, less than
    ``burst_minutes`` apart, at two or more pharmacies (a dealer's car doing the rounds).

    Buyers of one household (the same address) shop together as a matter of course and do not
    count. ``rows`` are the purchases of the buyers beyond need only (few), so the pairing is cheap.
    """
    homes = rows.select("pid", "address_key").drop_nulls().unique()
    buys = rows.select("pid", "ih", "facility_code", "claim_ts").drop_nulls().unique()
    window = t.burst_minutes * 60
    pairs = (
        buys.join(buys, on=["ih", "facility_code"], suffix="_b")
        .filter((pl.col("pid") < pl.col("pid_b")) & ((pl.col("claim_ts") - pl.col("claim_ts_b")).abs() < window))
        .group_by("pid", "pid_b")
        .agg(pl.col("facility_code").n_unique().alias("shops"))
        .filter(pl.col("shops") >= 2)
        .join(  # pairs who share a home
            homes.join(homes, on="address_key", suffix="_b").select("pid", "pid_b"), on=["pid", "pid_b"], how="anti"
        )
    )
    both = pl.concat([pairs.select("pid"), pairs.select(pl.col("pid_b").alias("pid"))]).unique()
    return both.with_columns(pl.lit(True).alias("together"))


def _shopping_cues(per_drug: pl.DataFrame, together: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """One row per buyer over the drugs bought beyond need: totals, the cues and how many agree.

    ``together``: the buyers of :func:`_bought_together`.

    ``item_code`` is the drug with most packs (named in the sentence); counties are the 6-digit
    divisions inside national pharmacy codes (a code without one counts for no county).
    """
    county = geo.division_of(pl.element())
    return (
        per_drug.sort("packs", "item_code", descending=[True, False])
        .group_by("pid")
        .agg(
            pl.len().alias("n_drugs"),
            pl.col("item_code").first(),
            pl.col("card_id").drop_nulls().first(),
            pl.col("packs").max(),
            pl.col("packs").sum().alias("all_packs"),
            pl.col("median_packs").first(),
            (pl.col("packs") / pl.col("median_packs").clip(1e-9, None)).max().round(1).alias("over_median"),
            pl.col("amount").sum().round(2),
            pl.col("pharmacies").list.explode(keep_nulls=False, empty_as_null=False).unique().sort(),
            pl.col("claim_ids").list.explode(keep_nulls=False, empty_as_null=False).unique().sort(),
        )
        .join(together, on="pid", how="left")
        .with_columns(
            pl.col("together").fill_null(False),
            pl.col("pharmacies").list.len().cast(pl.UInt32).alias("n_pharm"),
            pl.col("pharmacies")
            .list.eval(county.filter(county.str.contains(r"^\d{6}$")))
            .list.n_unique()
            .alias("n_counties"),
        )
        .with_columns(
            (pl.col("amount") >= t.shopping_min_amount).alias("money_cue"),
            (pl.col("amount") / pl.col("all_packs") >= t.shopping_dear_price).alias("dear_drug"),
            (pl.col("n_drugs") >= 2).alias("several_drugs"),
            (pl.col("n_pharm") >= 2 * t.shopping_min_pharmacies).alias("many_pharmacies"),
        )
        .with_columns(
            pl.sum_horizontal([pl.col(c).cast(pl.Int32) for c in SHOPPING_CUES]).alias("cues"),
            (pl.col("amount") / pl.col("all_packs")).round(2).alias("price"),
        )
    )
