"""Cues the inpatient detectors read beside their first rule, so a ring that shows another face is still found.

Each function here takes the few rows a detector's scan kept (inpatient stays,
the visits around them) and returns leads in the detector's own name; the
detector concatenates them with the leads of its first rule. Every one needs a
*core* fact and then ``*_min_cues`` of a few independent cues, so a ring
showing most of them is found and a look-alike showing one is not.

- :func:`referred_groups` (co_admission, 诱导住院 through a referrer) — core:
  patients referred from one outpatient facility (a visit there at most
  ``referral_max_days`` before the admission) admitted at one hospital in small
  batches (two or more within a day of each other, a shuttle) on
  ``co_admit_min_repeats`` or more occasions. Cues: *far* (the hospital is in
  another county than the referrer), *private* hospital, *returns* (half or
  more of the patients referred there twice or more). Look-alike: a hospital's
  ordinary intake from its catchment clinic — referrals one at a time (a busy
  clinic's flow chains into one long run, never into batches), in the same
  county, to a public hospital, patients seldom sent back.

Every rule here is plain Polars on rows that are already few (the stays and
the visits of the persons who stayed), so it runs in a detector's finish
whatever engine ran its scan.
"""

from __future__ import annotations

import polars as pl

from ringsight.algorithms.leads import finish, member, member_list, numbers_json
from ringsight.config import DetectThresholds

_TZ = 8 * 3600
_DAY = 86_400

#: co_admission's referral cues (beside the core: shuttle batches from one referrer)
REFERRAL_CUES = ("far", "private", "returns")


def union_leads(*frames: pl.DataFrame) -> pl.DataFrame:
    """One detector's leads from its several rules, in one frame (no lead ids yet: ``concat_leads`` adds them)."""
    kept = [f for f in frames if not f.is_empty()]
    return pl.concat(kept, how="vertical") if kept else frames[0]


def _division(code: str) -> pl.Expr:
    """The county-level division inside a national facility code (its whole text when it is no such code)."""
    text = pl.col(code).cast(pl.String)
    return pl.when(text.str.len_chars() >= 7).then(text.str.slice(1, 6)).otherwise(text)


def _referrals(claims: pl.DataFrame, stays: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """(stay columns…, referrer, ref_doctor, ref_claim) of stays preceded by an outpatient visit elsewhere.

    The visit is at another facility, before the admission and at most ``referral_max_days`` days before
    its day. A stay with several such visits has a row for each (each referrer is weighed on its own).
    """
    pids = stays.lazy().select("pid").unique()
    visits = (
        claims.lazy()
        .filter((pl.col("visit_type") == "outpatient") & pl.col("admit_ts").is_null())
        .select(
            "pid",
            pl.col("facility_code").alias("referrer"),
            pl.col("doctor_code").alias("ref_doctor"),
            pl.col("claim_id").alias("ref_claim"),
            pl.col("claim_ts").alias("ref_ts"),
        )
        .join(pids, on="pid", how="semi")
    )
    return (
        stays.lazy()
        .select("claim_id", "pid", "facility_code", "doctor_code", "admit_ts", "admit_day", "total_amount")
        .join(visits, on="pid")
        .filter(
            (pl.col("referrer").cast(pl.String) != pl.col("facility_code").cast(pl.String))
            & (pl.col("ref_ts") < pl.col("admit_ts"))
            & ((pl.col("admit_day") - (pl.col("ref_ts") + _TZ) // _DAY) <= t.referral_max_days)
        )
        .collect()
    )


def referred_groups(claims: pl.DataFrame, stays: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """co_admission leads: patients of one referrer brought to one hospital in batches, with enough cues."""
    refs = _referrals(claims, stays, t)
    if refs.is_empty():
        return finish(refs, "co_admission", "induced_admission")
    key = ["facility_code", "referrer"]
    # one row per referred stay (the latest visit before it stands for the referral)
    per_stay = (
        refs.sort("ref_ts")
        .group_by([*key, "claim_id"], maintain_order=True)
        .agg(pl.all().last())
        .sort([*key, "admit_day"])
        .with_columns(
            # a shuttle: admissions of one referrer's patients a day or less apart (a steady flow chains
            # into one long run, which the span limit below leaves out)
            (pl.col("admit_day").diff().fill_null(2) > 1).cum_sum().over(key).alias("batch")
        )
    )
    batches = (
        per_stay.group_by([*key, "batch"])
        .agg(
            pl.col("pid").n_unique().alias("k"),
            (pl.col("admit_day").max() - pl.col("admit_day").min()).alias("span"),
        )
        .filter(
            (pl.col("k") >= 2)
            & (pl.col("k") <= t.covisit_max_group)
            & (pl.col("span") <= max(1, 2 * t.co_admit_spread_days))
        )
    )
    grouped = per_stay.join(batches.select(*key, "batch"), on=[*key, "batch"], how="semi")
    if grouped.is_empty():
        return finish(grouped, "co_admission", "induced_admission")
    ownership = (
        claims.lazy()
        .select(pl.col("facility_code").cast(pl.String), pl.col("facility_ownership").cast(pl.String))
        .drop_nulls()
        .unique("facility_code")
        .collect()
        if "facility_ownership" in claims.columns
        else pl.DataFrame(schema={"facility_code": pl.String, "facility_ownership": pl.String})
    )
    leads = (
        grouped.group_by(key)
        .agg(
            pl.col("pid").unique().sort().alias("pids"),
            pl.col("batch").n_unique().alias("shuttles"),
            pl.len().alias("stays"),
            (pl.col("pid").value_counts().struct.field("count") >= 2).mean().alias("returning"),
            pl.concat_list("claim_id", "ref_claim")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique()
            .sort()
            .alias("claim_ids"),
            pl.col("doctor_code").drop_nulls().unique().sort().alias("doctors"),
            pl.col("ref_doctor").drop_nulls().unique().sort().alias("ref_doctors"),
            pl.col("total_amount").sum().round(2).alias("amount"),
        )
        .with_columns(pl.col("pids").list.len().alias("patients"))
        .filter((pl.col("patients") >= t.co_admit_min_group) & (pl.col("shuttles") >= t.co_admit_min_repeats))
        .with_columns(pl.col("facility_code").cast(pl.String), pl.col("referrer").cast(pl.String))
        .join(ownership, on="facility_code", how="left")
        .with_columns(
            (_division("facility_code") != _division("referrer")).alias("far"),
            (pl.col("facility_ownership") == "private").fill_null(False).alias("private"),
            (pl.col("returning") >= 0.5).alias("returns"),
        )
        .with_columns(pl.sum_horizontal(*REFERRAL_CUES).alias("cues"))
        .filter(pl.col("cues") >= t.referral_min_cues)
    )
    cue_names = pl.concat_str(
        [pl.when(pl.col(c)).then(pl.lit(c)) for c in REFERRAL_CUES], separator=", ", ignore_nulls=True
    )
    out = leads.with_columns(
        (
            (pl.col("patients") / 8).clip(0, 1) * 0.4
            + (pl.col("shuttles") / 4).clip(0, 1) * 0.3
            + (pl.col("cues") / len(REFERRAL_CUES)) * 0.3
        ).alias("strength"),
        pl.format(
            "{} 名由机构 {} 转介的患者分 {} 批被送至机构 {} 住院（线索：{}）",
            pl.col("patients"),
            pl.col("referrer"),
            pl.col("shuttles"),
            pl.col("facility_code"),
            cue_names,
        ).alias("evidence_zh"),
        pl.format(
            "{} patients referred by {} admitted at {} in {} batches (cues: {})",
            pl.col("patients"),
            pl.col("referrer"),
            pl.col("facility_code"),
            pl.col("shuttles"),
            cue_names,
        ).alias("evidence_en"),
        numbers_json("patients", "shuttles", "stays", "cues", "amount").alias("numbers"),
        pl.concat_list(
            pl.concat_list(member("Facility", "facility_code", "hospital")),
            pl.concat_list(member("Facility", "referrer", "referrer")),
            member_list("Patient", "pids", "co_admitted"),
            member_list("Doctor", "doctors", "admitting_doctor"),
            member_list("Doctor", "ref_doctors", "referring_doctor"),
        ).alias("members"),
    )
    return finish(out, "co_admission", "induced_admission")
