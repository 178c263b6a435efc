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

- :func:`facility_repeats` (repeated_admission, 救助人员多次住院 under
  rotating doctors) — core: ``repeat_min_patients`` patients each admitted
  ``repeat_facility_min`` times at one facility, whichever doctor. Cues:
  *private*; *varied* (half or more of their readmissions come under another
  diagnosis than the stay before — whichever fits); *soon* (median gap ≤ ``repeat_gap_days``);
  *lift* (the facility's share of such patients twice the share over all
  facilities). Look-alike: a public hospital's chronic patients, back for one
  condition under whoever is on the ward (one cue or two).
- :func:`cross_splits` (split_charges, 分解住院 across departments) — core: a
  readmission within ``readmit_max_days`` under another diagnosis that bills a
  costly one-off service of the first stay again (not a drug, at least
  ``split_dup_min_price`` a unit, one or two units: a scan, not a bed day). Cues:
  *same_day*, *related* diagnosis (same ICD-10 chapter). Look-alike: a genuine
  transfer between departments, whose new ward bills its own items.

The scans that read the whole window (:func:`referral_rows`,
:func:`repeat_facility_rows`, and ``admissions.readmission_rows`` for :func:`cross_splits`) are Narwhals,
so they run on Polars or Spark;
every finish is plain Polars on rows that are already few, so it runs on the
driver whatever engine ran the scan.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
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


def referral_rows(claims: nw.LazyFrame[Any], t: DetectThresholds) -> nw.LazyFrame[Any]:
    """The scan: (stay columns…, referrer, ref_doctor, ref_claim, ref_ts) of stays preceded by a visit elsewhere.

    The visit is an outpatient claim at another facility, before the admission and at most
    ``referral_max_days`` days before its day. A stay with several such visits has a row for each.
    Joins and filters only (Narwhals: runs on Polars or Spark).
    """
    stays = _stay_scan(claims).select(
        "claim_id",
        "pid",
        "facility_code",
        "facility_ownership",
        "doctor_code",
        "admit_ts",
        "admit_day",
        "total_amount",
    )
    visits = (
        claims.filter((nw.col("visit_type") == "outpatient") & nw.col("admit_ts").is_null())
        .select(
            "pid",
            nw.col("facility_code").alias("referrer"),
            nw.col("doctor_code").alias("ref_doctor"),
            nw.col("claim_id").alias("ref_claim"),
            nw.col("claim_ts").alias("ref_ts"),
        )
        .join(stays.select("pid").unique(), on="pid", how="semi")
    )
    return stays.join(visits, on="pid").filter(
        (nw.col("referrer").cast(nw.String) != nw.col("facility_code").cast(nw.String))
        & (nw.col("ref_ts") < nw.col("admit_ts"))
        & ((nw.col("admit_day") - (nw.col("ref_ts") + _TZ) // _DAY) <= t.referral_max_days)
    )


def referred_groups(refs: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """co_admission leads from :func:`referral_rows`: patients of one referrer brought in batches, with cues."""
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
            pl.col("facility_ownership").cast(pl.String).drop_nulls().first().alias("facility_ownership"),
        )
        .with_columns(pl.col("pids").list.len().alias("patients"))
        .filter((pl.col("patients") >= t.co_admit_min_group) & (pl.col("shuttles") >= t.co_admit_min_repeats))
        .with_columns(pl.col("facility_code").cast(pl.String), pl.col("referrer").cast(pl.String))
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


# --- repeated admission: one facility, whichever doctor ------------------------------------------------

#: repeated_admission's facility cues (beside the core: patients admitted again and again at one facility)
REPEAT_CUES = ("private", "varied", "soon", "lift")


def _stay_scan(claims: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Inpatient stays with their admit and discharge days (Narwhals: runs on Polars or Spark)."""
    return claims.filter(
        ~nw.col("admit_ts").is_null() & ~nw.col("discharge_ts").is_null() & ~nw.col("pid").is_null()
    ).with_columns(
        ((nw.col("admit_ts") + _TZ) // _DAY).alias("admit_day"),
        ((nw.col("discharge_ts") + _TZ) // _DAY).alias("discharge_day"),
    )


def repeat_facility_rows(claims: nw.LazyFrame[Any], t: DetectThresholds) -> tuple[nw.LazyFrame[Any], ...]:
    """The scans: (stays of patients admitted ``repeat_facility_min`` times at one facility under any doctor,
    at facilities with ``repeat_min_patients`` such patients; per facility its patients and such patients).

    Group-bys and a semi-join only (Spark has no distinct count over a window).
    """
    stays = _stay_scan(claims).filter(~nw.col("facility_code").is_null())
    per = stays.group_by("facility_code", "pid").agg(nw.col("admit_day").n_unique().alias("admissions"))
    counts = (
        per.with_columns((nw.col("admissions") >= t.repeat_facility_min).cast(nw.Int64).alias("back"))
        .group_by("facility_code")
        .agg(nw.len().alias("all_patients"), nw.col("back").sum().alias("repeaters"))
    )
    kept = counts.filter(nw.col("repeaters") >= t.repeat_min_patients).select("facility_code")
    back = per.filter(nw.col("admissions") >= t.repeat_facility_min).join(kept, on="facility_code", how="semi")
    rows = stays.join(back.select("facility_code", "pid"), on=["facility_code", "pid"], how="semi").select(
        "claim_id",
        "pid",
        "facility_code",
        "facility_ownership",
        "doctor_code",
        "diagnosis_code",
        "admit_day",
        "discharge_day",
        "total_amount",
    )
    return rows, counts


def facility_repeats(rows: pl.DataFrame, counts: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """repeated_admission leads per facility (any doctor): enough patients back again and again, with cues.

    Cues: *private* facility; *varied* — half or more of their readmissions come under another diagnosis
    than the stay before (a chronic patient comes back for one condition); *soon* — their median gap from
    discharge to the next admission is at most ``repeat_gap_days``; *lift* — the facility's share of
    patients who come back that often is twice the share over all facilities.
    """
    if rows.is_empty():
        return finish(rows, "repeated_admission", "repeated_admission")
    base = counts["repeaters"].sum() / max(1, counts["all_patients"].sum())
    gaps = rows.sort("facility_code", "pid", "admit_day").with_columns(
        (pl.col("admit_day") - pl.col("discharge_day").shift(1)).over("facility_code", "pid").alias("gap"),
        (pl.col("diagnosis_code").cast(pl.String) != pl.col("diagnosis_code").cast(pl.String).shift(1))
        .over("facility_code", "pid")
        .alias("changed"),
    )
    per = gaps.group_by("facility_code", "pid").agg(
        pl.col("admit_day").n_unique().alias("admissions"),
        pl.col("changed").drop_nulls().mean().alias("changed"),
        pl.col("gap").drop_nulls().median().alias("gap"),
    )
    leads = (
        per.group_by("facility_code")
        .agg(
            pl.col("pid").sort().alias("pids"),
            pl.col("admissions").sum().alias("admissions"),
            (pl.col("changed").fill_null(0) >= 0.5).mean().alias("varied_share"),
            pl.col("gap").median().alias("median_gap"),
        )
        .with_columns(pl.col("pids").list.len().alias("patients"))
        .filter(pl.col("patients") >= t.repeat_min_patients)
        .join(counts.select("facility_code", "all_patients", "repeaters"), on="facility_code", how="left")
        .join(
            rows.group_by("facility_code").agg(
                (pl.col("facility_ownership").cast(pl.String) == "private").any().alias("private"),
                pl.col("claim_id").sort().alias("claim_ids"),
                pl.col("doctor_code").drop_nulls().unique().sort().alias("doctors"),
                pl.col("total_amount").sum().round(2).alias("amount"),
            ),
            on="facility_code",
        )
        .with_columns(
            ((pl.col("repeaters") / pl.col("all_patients")) / max(base, 1e-6)).round(1).alias("lift"),
            pl.col("private").fill_null(False),
            (pl.col("varied_share") >= 0.5).alias("varied"),
            (pl.col("median_gap") <= t.repeat_gap_days).fill_null(False).alias("soon"),
        )
        .with_columns((pl.col("lift") >= 2).fill_null(False).alias("lift_cue"))
        .with_columns(
            pl.sum_horizontal("private", "varied", "soon", "lift_cue").alias("cues"),
        )
        .filter(pl.col("cues") >= t.repeat_min_cues)
    )
    names = _cue_names({"private": "private", "varied": "varied", "soon": "soon", "lift_cue": "lift"})
    out = leads.with_columns(
        (
            (pl.col("patients") / (2 * t.repeat_min_patients)).clip(0, 1) * 0.5
            + (pl.col("cues") / len(REPEAT_CUES)) * 0.5
        ).alias("strength"),
        pl.format(
            "机构 {} 的 {} 名患者反复住院（共 {} 次，由 {} 名医师收治；线索：{}）",
            pl.col("facility_code"),
            pl.col("patients"),
            pl.col("admissions"),
            pl.col("doctors").list.len(),
            names,
        ).alias("evidence_zh"),
        pl.format(
            "{} patients admitted again and again at {} ({} admissions; doctors: {}; cues: {})",
            pl.col("patients"),
            pl.col("facility_code"),
            pl.col("admissions"),
            pl.col("doctors").list.len(),
            names,
        ).alias("evidence_en"),
        numbers_json("patients", "admissions", "median_gap", "lift", "cues", "amount").alias("numbers"),
        pl.concat_list(
            pl.concat_list(member("Facility", "facility_code", "hospital")),
            member_list("Doctor", "doctors", "doctor"),
            member_list("Patient", "pids", "readmitted"),
        ).alias("members"),
    )
    return finish(out, "repeated_admission", "repeated_admission")


def _cue_names(cues: dict[str, str]) -> pl.Expr:
    """The names of the cues that hold, comma-separated (for evidence sentences)."""
    return pl.concat_str(
        [pl.when(pl.col(c)).then(pl.lit(n)) for c, n in cues.items()], separator=", ", ignore_nulls=True
    )


# --- split charges across departments ------------------------------------------------------------------

#: split_charges' cross-diagnosis cues (beside the core: the same costly service billed on both stays)
SPLIT_CUES = ("same_day", "related")


def duplicated_services(pairs: pl.DataFrame, items: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """(claim_id, duplicated) — per readmission, the costly one-off services billed again on it.

    A one-off service: not a drug, at least ``split_dup_min_price`` a unit, one or two units on each
    bill (a bed or a daily therapy scales with the stay; a scan does not).
    """
    lines = (
        items.filter(pl.col("item_category").cast(pl.String) != "drug")
        .filter((pl.col("quantity") > 0) & (pl.col("quantity") <= 2))
        .filter(pl.col("amount") / pl.col("quantity") >= t.split_dup_min_price)
        .select("claim_id", pl.col("item_code").cast(pl.String))
        .unique()
    )
    return (
        pairs.select("claim_id", "prev_claim")
        .join(lines, on="claim_id")
        .join(lines.rename({"claim_id": "prev_claim"}), on=["prev_claim", "item_code"])
        .group_by("claim_id")
        .agg(pl.col("item_code").unique().sort().alias("duplicated"))
    )


def cross_splits(pairs: pl.DataFrame, items: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """split_charges leads per facility: readmissions under another diagnosis that bill a costly service again.

    Core: the same one-off service (a scan) on both bills. Cues: *same_day* readmission; *related*
    diagnosis (the same ICD-10 chapter). ``split_min_cues`` of them make a split; two splits a lead.
    Look-alike: a genuine transfer between departments — the new ward bills its own items, not the scan again.
    """
    if pairs.is_empty():
        return finish(pairs, "split_charges", "split_charges")
    dup = duplicated_services(pairs, items, t)
    splits = (
        pairs.join(dup, on="claim_id")
        .with_columns(
            (pl.col("gap") <= 0).alias("same_day"),
            (
                pl.col("diagnosis_code").cast(pl.String).str.slice(0, 1)
                == pl.col("prev_diag").cast(pl.String).str.slice(0, 1)
            )
            .fill_null(False)
            .alias("related"),
        )
        .filter(pl.sum_horizontal(*SPLIT_CUES) >= t.split_min_cues)
    )
    leads = (
        splits.group_by("facility_code")
        .agg(
            pl.col("pid").unique().sort().alias("pids"),
            pl.len().alias("splits"),
            pl.concat_list(pl.col("doctor_code").cast(pl.String), pl.col("prev_doctor").cast(pl.String))
            .list.explode(keep_nulls=False, empty_as_null=False)
            .drop_nulls()
            .unique()
            .sort()
            .alias("doctors"),
            pl.concat_list(pl.col("claim_id").cast(pl.String), pl.col("prev_claim").cast(pl.String))
            .list.explode(keep_nulls=False, empty_as_null=False)
            .alias("claim_ids"),
            pl.col("duplicated").list.explode(keep_nulls=False, empty_as_null=False).unique().sort().alias("items"),
            pl.col("same_day").sum().alias("same_day"),
            pl.col("total_amount").sum().round(2).alias("amount"),
        )
        .filter(pl.col("splits") >= 2)
    )
    out = leads.with_columns(
        (pl.col("splits") / 8).alias("strength"),
        pl.format(
            "机构 {} 有 {} 次 {} 天内换诊断再入院并重复收取同一检查（{}；当天再入院 {} 次）",
            pl.col("facility_code"),
            pl.col("splits"),
            pl.lit(t.readmit_max_days),
            pl.col("items").list.join("、"),
            pl.col("same_day"),
        ).alias("evidence_zh"),
        pl.format(
            "{} readmissions at {} within {} days under another diagnosis billing a service again ({}; {} same-day)",
            pl.col("splits"),
            pl.col("facility_code"),
            pl.lit(t.readmit_max_days),
            pl.col("items").list.join(", "),
            pl.col("same_day"),
        ).alias("evidence_en"),
        numbers_json("splits", "same_day", "amount").alias("numbers"),
        pl.concat_list(
            pl.concat_list(member("Facility", "facility_code", "hospital")),
            member_list("Doctor", "doctors", "doctor"),
            member_list("Patient", "pids", "split_patient"),
        ).alias("members"),
    )
    return finish(out, "split_charges", "split_charges")
