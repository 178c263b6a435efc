"""Cards used by someone else in one town (冒名就医, 出借医保卡): diagnoses the holder cannot have.

``impossible_travel`` sees a lent card only when it moves too fast. A clinic
that treats people under other people's lent or collected cards, in one town,
leaves another trace: the card's holder is a man of 70 and the claim is for
prenatal care (DOMAIN.md: "card holder's age/sex inconsistent with
diagnosis; one card, many phones"). :mod:`holder_rules` says which claims
contradict their holder's sex or birth cohort (a *mismatch*); pharmacy
claims are left out (family mutual aid, 家庭共济, lets a household buy on one
card, and a pharmacy claim's diagnosis is not a real one).

One mismatch is a coding slip. A card with mismatches is weighed per facility
where they happen on independent cues, and a card counts when at least
``lending_min_cues`` of them hold:

- **repeated** — the card's mismatches fall on ``lending_min_days`` or more
  days (one stay coded wrongly twice is one slip);
- **other phone** — a mismatched claim gives a phone that is not the card's
  usual one (its most frequent phone on its other claims): one card, many phones;
- **facility pattern** — the facility has mismatches on
  ``lending_min_cards`` or more cards, and a share of mismatched claims
  ``lending_min_lift`` times the window's share or more (a big hospital's
  random slips are many cards but the base rate);
- **not the holder's place** — the holder has no other claim at the facility;
- **shared phone** — that other phone is also given on another card's mismatches.

A lead is a facility with the pattern and its cards, holding the cards, their
holders, the facility and the other phones, so a gang's cards link into one
cluster; any other card that counts is a lead of its own, without the
facility (a travelling impostor's card seen once at a big hospital must not
tie the rings that pass through that hospital together). Look-alikes left alone: a big hospital's scattered slips (one
mismatch per card, low share, the holder's own phone at the holder's usual
hospital: no cue), a household buying at a pharmacy on one card (pharmacy
claims are not checked), claims without sex, cohort or diagnosis (never a
mismatch), the one-off slip at a hospital the holder never used before (one cue).
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from ringsight.algorithms.detectors import holder_rules
from ringsight.algorithms.engine import Source, plain, source_of, with_optional
from ringsight.algorithms.leads import finish, member, member_list, numbers_json
from ringsight.config import DetectThresholds

#: The window's claims: a Polars frame (this machine) or a :class:`Source` on either engine.
ClaimsIn = pl.DataFrame | Source

CUES = ("repeated", "other_phone", "facility_pattern", "not_holders_place", "shared_phone")
#: Columns a hand-made window or a bureau's export may lack; read as nulls.
OPTIONAL = ("patient_gender", "birth_cohort", "patient_phone", "diagnosis_code", "facility_kind")
_CST = 8 * 3600  # claim days are Asia/Shanghai days


def _checkable(src: Source) -> nw.LazyFrame[Any]:
    """Claims a rule could check: a card, a diagnosis, a sex or cohort, and not at a pharmacy."""
    kind = nw.col("facility_kind").cast(nw.String)
    return with_optional(src, OPTIONAL).filter(
        ~nw.col("card_id").is_null()
        & ~nw.col("facility_code").is_null()
        & ~nw.col("diagnosis_code").is_null()
        & (~nw.col("patient_gender").is_null() | ~nw.col("birth_cohort").is_null())
        & (kind.is_null() | (kind != "pharmacy"))
    )


def mismatch_rows(src: Source, checkable: nw.LazyFrame[Any]) -> pl.DataFrame:
    """The scan: every checkable claim that contradicts its holder's sex or cohort, with ``reason``.

    The rules are matched on the window's distinct diagnosis codes and cohorts (a few thousand),
    sent back to the engine as small tables and joined, so the per-claim work is two joins and a
    comparison.
    """
    codes = plain(src.collect(checkable.select("diagnosis_code").unique()))["diagnosis_code"]
    rules = holder_rules.diagnosis_rules(codes)
    if rules.is_empty():
        return pl.DataFrame()
    cohorts = plain(src.collect(checkable.select("birth_cohort").unique()))["birth_cohort"]
    bounds = holder_rules.cohort_bounds(cohorts)
    joined = holder_rules.ruled(checkable, src.table(rules, like=checkable), src.table(bounds, like=checkable))
    rows = joined.filter(holder_rules.mismatch()).select(
        "card_id",
        "pid",
        "facility_code",
        "claim_id",
        "claim_ts",
        "patient_phone",
        "total_amount",
        nw.col("diagnosis_code").cast(nw.String),
        holder_rules.reason().alias("reason"),
    )
    return plain(src.collect(rows))


def _totals(src: Source, checkable: nw.LazyFrame[Any], facilities: pl.DataFrame) -> tuple[int, pl.DataFrame]:
    """The window's checkable claims, and those of each facility with mismatches."""
    total = int(plain(src.collect(checkable.select(nw.len().alias("n"))))["n"][0])
    per = checkable.join(src.table(facilities, like=checkable), on="facility_code", how="semi")
    counts = plain(src.collect(per.group_by("facility_code").agg(nw.len().alias("checked"))))
    return total, counts


def _history(src: Source, mism: pl.DataFrame) -> pl.DataFrame:
    """The mismatched cards' other claims (any kind) counted per (card, facility, phone)."""
    claims = with_optional(src, ("patient_phone",)).select("card_id", "facility_code", "patient_phone", "claim_id")
    rows = (
        claims.join(src.table(mism.select("card_id").unique(), like=claims), on="card_id", how="semi")
        .join(src.table(mism.select("claim_id"), like=claims), on="claim_id", how="anti")
        .group_by("card_id", "facility_code", "patient_phone")
        .agg(nw.len().alias("n"))
    )
    return plain(src.collect(rows))


def _per_card(mism: pl.DataFrame, history: pl.DataFrame, facilities: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """One row per (card, facility) of mismatches, with each cue."""
    usual = (
        history.drop_nulls("patient_phone")
        .group_by("card_id", "patient_phone")
        .agg(pl.col("n").sum())
        .sort("n", "patient_phone", descending=[True, False])
        .unique("card_id", keep="first")
        .select("card_id", pl.col("patient_phone").alias("usual_phone"))
    )
    places = history.select("card_id", "facility_code", pl.lit(True).alias("holders_place")).unique()
    rows = mism.join(usual, on="card_id", how="left").with_columns(
        pl.when(pl.col("patient_phone") != pl.col("usual_phone")).then(pl.col("patient_phone")).alias("other"),
        ((pl.col("claim_ts") + _CST) // 86_400).n_unique().over("card_id").alias("days"),
        pl.len().over("card_id").alias("card_mismatches"),  # the card's mismatches at every facility
    )
    rows = rows.with_columns(
        (pl.col("card_id").n_unique().over("other") >= 2).and_(pl.col("other").is_not_null()).alias("shared")
    )
    per = rows.group_by("card_id", "facility_code").agg(
        pl.col("pid").drop_nulls().unique().sort().alias("pids"),
        pl.col("days").first(),
        pl.col("card_mismatches").first(),
        pl.col("other").is_not_null().any().alias("other_phone"),
        pl.col("shared").any().alias("shared_phone"),
        pl.col("other").drop_nulls().unique().sort().alias("others"),
        pl.col("claim_id").alias("claim_ids"),
        pl.col("diagnosis_code").sort().first().alias("diagnosis"),
        (pl.col("reason") == "sex").sum().alias("sex_mismatches"),
        (pl.col("reason") == "age").sum().alias("age_mismatches"),
        pl.col("total_amount").sum().alias("amount"),
    )
    return (
        per.join(places, on=["card_id", "facility_code"], how="left")
        .join(facilities.select("facility_code", "facility_pattern"), on="facility_code", how="left")
        .with_columns(
            (pl.col("days") >= t.lending_min_days).alias("repeated"),
            pl.col("holders_place").is_null().alias("not_holders_place"),
            pl.col("facility_pattern").fill_null(False),
        )
        .with_columns(pl.sum_horizontal([pl.col(c).cast(pl.Int32) for c in CUES]).alias("cues"))
    )


def _facilities(mism: pl.DataFrame, total: int, checked: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """Per facility with mismatches: cards, mismatches, its share, the window's share, the pattern cue."""
    base = mism.height / max(total, 1)
    return (
        mism.group_by("facility_code")
        .agg(pl.col("card_id").n_unique().alias("cards_mismatched"), pl.len().alias("mismatches"))
        .join(checked, on="facility_code", how="left")
        .with_columns((pl.col("mismatches") / pl.col("checked").fill_null(0).clip(1, None)).alias("share"))
        .with_columns(
            pl.lit(base).alias("base_share"),
            (
                (pl.col("cards_mismatched") >= t.lending_min_cards) & (pl.col("share") >= t.lending_min_lift * base)
            ).alias("facility_pattern"),
        )
    )


def card_lending(claims: ClaimsIn, t: DetectThresholds) -> pl.DataFrame:
    """Facilities where cards show ``lending_min_cues`` or more card-lending cues on mismatched claims."""
    src = source_of(claims)
    checkable = _checkable(src)
    mism = mismatch_rows(src, checkable)
    if mism.is_empty():
        return finish(pl.DataFrame(), "card_lending", "impersonation")
    total, checked = _totals(src, checkable, mism.select("facility_code").unique())
    facilities = _facilities(mism, total, checked, t)
    per = _per_card(mism, _history(src, mism), facilities, t).filter(pl.col("cues") >= t.lending_min_cues)
    if per.is_empty():
        return finish(per, "card_lending", "impersonation")
    # a facility with the pattern is one lead (its cards, its gang); any other card is a lead of its own,
    # without the facility: one lent card at a big hospital must not glue the rings that pass through it
    per = per.with_columns(
        pl.when(pl.col("facility_pattern")).then(pl.col("facility_code")).alias("site"),
        pl.when(pl.col("facility_pattern"))
        .then(pl.concat_str([pl.lit("F|"), pl.col("facility_code")]))
        .otherwise(pl.concat_str([pl.lit("C|"), pl.col("card_id")]))
        .alias("unit"),
    )
    leads = (
        per.sort("facility_code")
        .group_by("unit")
        .agg(
            pl.col("site").first(),
            pl.col("facility_code").first(),  # the figures below are this facility's
            pl.col("facility_code").n_unique().alias("n_places"),
            pl.col("card_id").unique().sort().alias("cards"),
            pl.col("pids").list.explode(keep_nulls=False, empty_as_null=False).unique().sort(),
            pl.col("others").list.explode(keep_nulls=False, empty_as_null=False).unique().sort().alias("other_phones"),
            pl.col("claim_ids").list.explode(keep_nulls=False, empty_as_null=False),
            pl.col("claim_ids").list.len().sum().alias("mismatches"),
            pl.struct("card_id", "card_mismatches")
            .unique()
            .struct.field("card_mismatches")
            .sum()
            .alias("all_mismatches"),
            pl.col("sex_mismatches").sum(),
            pl.col("age_mismatches").sum(),
            pl.col("diagnosis").sort().first(),
            pl.col("cues").max().alias("cues"),
            pl.col("cues").mean().alias("mean_cues"),
            pl.col("amount").sum().round(2),
            *[pl.col("card_id").filter(pl.col(c)).n_unique().alias(c) for c in CUES],  # cards showing each cue
        )
    )
    leads = leads.join(
        facilities.select("facility_code", "checked", "share", "base_share"), on="facility_code", how="left"
    ).with_columns(
        pl.col("cards").list.len().alias("n_cards"),
        (pl.col("share") * 100).round(2).alias("share_pct"),
        (pl.col("base_share") * 100).round(3).alias("base_pct"),
    )
    cue_list = pl.concat_str(
        [pl.when(pl.col(c) > 0).then(pl.lit(c)) for c in CUES], separator=", ", ignore_nulls=True
    ).alias("cue_names")
    out = leads.with_columns(cue_list).with_columns(
        ((pl.col("mean_cues") / len(CUES) * 1.4) * (0.5 + 0.25 * pl.col("n_cards")).clip(0, 1)).alias("strength"),
        pl.format(
            "{} 有 {} 张医保卡的 {} 笔结算（这些卡全市共 {} 笔）诊断与持卡人性别或年龄不符"
            "（如 {}；{} 占 {}%，全市 {}%；线索：{}）",
            pl.when(pl.col("site").is_not_null())
            .then(pl.format("机构 {}", pl.col("facility_code")))
            .otherwise(pl.format("{} 家机构", pl.col("n_places"))),
            pl.col("n_cards"),
            pl.col("mismatches"),
            pl.col("all_mismatches"),
            pl.col("diagnosis"),
            pl.col("facility_code"),
            pl.col("share_pct"),
            pl.col("base_pct"),
            pl.col("cue_names"),
        ).alias("evidence_zh"),
        pl.format(
            "{}: {} cards with {} claims there ({} in all) whose diagnosis contradicts the holder's sex "
            "or age (e.g. {}; {}% of the claims of {}, {}% city-wide; cues: {})",
            pl.when(pl.col("site").is_not_null())
            .then(pl.format("facility {}", pl.col("facility_code")))
            .otherwise(pl.format("{} facilities", pl.col("n_places"))),
            pl.col("n_cards"),
            pl.col("mismatches"),
            pl.col("all_mismatches"),
            pl.col("diagnosis"),
            pl.col("share_pct"),
            pl.col("facility_code"),
            pl.col("base_pct"),
            pl.col("cue_names"),
        ).alias("evidence_en"),
        numbers_json(
            "n_cards",
            "mismatches",
            "all_mismatches",
            "sex_mismatches",
            "age_mismatches",
            "checked",
            "share_pct",
            "base_pct",
            "cues",
            *CUES,
            "amount",
        ).alias("numbers"),
        pl.concat_list(
            member_list("Card", "cards", "lent_card"),
            member_list("Patient", "pids", "card_holder"),
            pl.concat_list(member("Facility", "site", "lending_facility")),
            member_list("Phone", "other_phones", "impostor_phone"),
        ).alias("members"),
    )
    return finish(out, "card_lending", "impersonation")
