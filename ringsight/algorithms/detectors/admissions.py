"""Inpatient detectors: co-admission groups, repeated admissions, split stays, bed holding.

- *Co-admission* (诱导住院, 假病人): patients admitted and discharged together
  at one facility — on the same days, or within ``co_admit_spread_days`` of
  each other (a recruited group is booked in over a few days) — pairs of them
  together ``co_admit_min_repeats`` times or more, linked into groups; a lead
  needs ``co_admit_min_repeats`` batches of ``co_admit_min_group`` or more of
  the group admitted within twice the spread. Look-alikes ruled out: a big
  hospital's intake (windows with more than ``covisit_max_group`` patients are
  crowds), a ward of chronic patients who come back on their own days (pairs
  meet by chance, but chain into one long run, never into batches).
  Beside groups admitted together, patients *referred* by one outpatient
  facility (a visit there days before the admission) and brought to one
  hospital in small batches count with ``referral_min_cues`` of: the hospital
  in another county, private, the same patients sent back (see
  :mod:`~ringsight.algorithms.detectors.inpatient_cues`; a catchment clinic's
  one-at-a-time referrals to its county hospital are the look-alike).
- *Repeated admission* (救助人员多次住院): ``repeat_min_patients`` or more
  patients each admitted ``repeat_admission_min`` times or more by one doctor
  (chronic patients come back too, but not a doctor's whole group). Beside it,
  per facility under any doctor (a ring rotates its patients between doctors):
  ``repeat_min_patients`` patients admitted ``repeat_facility_min`` times with
  ``repeat_min_cues`` of private, varied diagnoses, soon, lift (a public
  hospital's chronic patients, back for one condition, are the look-alike).
- *Split charges* (分解住院): readmission at the same facility for the same
  diagnosis within ``readmit_max_days`` of discharge; a lead per responsible doctor.
  Beside it, a readmission under *another* diagnosis (another department) when
  a costly one-off service is billed on both stays, with ``split_min_cues`` of
  same-day and related diagnosis; a lead per facility (a genuine transfer bills
  the new ward's own items, not the scan again).
- *Stay overlap* (挂床住院): barely treated stays (at most
  ``stay_max_items_per_day`` billed lines per day; every stay when no items
  were loaded) while the patient claims at another facility — an outpatient
  or pharmacy claim inside the stay, or an inpatient stay at another facility
  overlapping it by a day or more; a lead per facility with two or more such
  patients whose share of such stays is at least twice the share across all
  facilities. A stay billed like real treatment counts too when the patient
  claims elsewhere (outpatient or pharmacy) on ``stay_away_min_days`` days or
  more and on ``stay_away_min_share`` of the days inside it — bed holding with
  a full bill. Look-alike: a patient who fills a prescription at a pharmacy
  once during a long stay (one day away).
- *Shared bed*: three or more patients booked on the same beds at the same time.

All are ported (see :mod:`ringsight.algorithms.engine`): a Narwhals scan
(``*_rows``) keeps the stays that can make a lead, on Polars or Spark, and the Polars finish
below it builds the leads from those rows alone.
"""

from __future__ import annotations

from typing import Any

import igraph as ig
import narwhals as nw
import polars as pl

from ringsight.algorithms.detectors.inpatient_cues import (
    cross_splits,
    facility_repeats,
    referral_rows,
    referred_groups,
    repeat_facility_rows,
    union_leads,
)
from ringsight.algorithms.engine import Source, source_of
from ringsight.algorithms.lazy import Items, collect
from ringsight.algorithms.leads import finish, member, member_list, numbers_json
from ringsight.config import DetectThresholds

#: The window's claims: a Polars frame (this machine) or a :class:`Source` on either engine.
ClaimsIn = pl.DataFrame | Source

_TZ = 8 * 3600
_DAY = 86_400


_STAY_COLUMNS = (
    "claim_id",
    "pid",
    "facility_code",
    "doctor_code",
    "diagnosis_code",
    "bed_no",
    "admit_ts",
    "discharge_ts",
    "total_amount",
)


def stay_rows(claims: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Inpatient stays with their admit and discharge days (only the columns the detectors read)."""
    return (
        claims.filter(~nw.col("admit_ts").is_null() & ~nw.col("discharge_ts").is_null())
        .select(_STAY_COLUMNS)
        .with_columns(
            ((nw.col("admit_ts") + _TZ) // _DAY).alias("admit_day"),
            ((nw.col("discharge_ts") + _TZ) // _DAY).alias("discharge_day"),
        )
    )


def _key(col: str) -> nw.Expr:
    """A join key that matches nulls too (a scan must keep the rows the finish would group as null).

    Not cast to a string: Polars fills a categorical in place (a cast of every key costs more
    than the whole scan), Spark's keys are strings already.
    """
    return nw.col(col).fill_null("\x00")


def co_admit_rows(claims: nw.LazyFrame[Any], t: DetectThresholds) -> nw.LazyFrame[Any]:
    """The scan: (facility_code, pid, pid_b, admit_day, admit_day_b, same_days) of two patients admitted together.

    Together means admitted within ``co_admit_spread_days`` of each other and discharged within as
    many days of each other: a recruited group is not always booked in on one day (a van per day,
    a bed freed a day later). Stays are grouped by windows of the admit day of ``spread + 1`` days
    at every offset, so any two admissions that close share a window; windows holding more than
    ``covisit_max_group`` patients are a crowd (a big hospital's intake) and are ignored. Groups
    admitted and discharged on the very same days are also taken on their own (at a big hospital
    the few-day window is a crowd, the same-day group is not). Pairs are made only among patients
    with ``co_admit_min_repeats`` stays there (a pair can come back together only if both come back).
    Group-bys and joins only, so it runs on Polars or Spark.
    """
    spread = t.co_admit_spread_days
    slim = (
        stay_rows(claims)
        .filter(~nw.col("pid").is_null() & ~nw.col("facility_code").is_null())
        .select("facility_code", "pid", "admit_day", "discharge_day")
        .unique()
    )
    back = (
        slim.group_by("facility_code", "pid")
        .agg(nw.len().alias("n"))
        .filter(nw.col("n") >= t.co_admit_min_repeats)
        .select("facility_code", "pid")
    )
    key = ["facility_code", "wa", "wb"]
    parts = []
    exact = [(1, 0, True)] if spread > 0 else []
    for width, off, by_discharge in [*exact, *((spread + 1, o, False) for o in range(spread + 1))]:
        win = slim.with_columns(
            ((nw.col("admit_day") + off) // width).alias("wa"),
            (nw.col("discharge_day") if by_discharge else nw.lit(0)).alias("wb"),
        )
        groups = (
            win.group_by(*key)
            .agg(nw.col("pid").n_unique().alias("k"))
            .filter((nw.col("k") >= t.co_admit_min_group) & (nw.col("k") <= t.covisit_max_group))
        )
        inside = win.join(groups.select(*key), on=key, how="semi").join(back, on=["facility_code", "pid"], how="semi")
        right = inside.select(
            *key,
            nw.col("pid").alias("pid_b"),
            nw.col("admit_day").alias("admit_day_b"),
            nw.col("discharge_day").alias("discharge_day_b"),
        )
        parts.append(
            inside.join(right, on=key)
            .filter(
                (nw.col("pid").cast(nw.String) < nw.col("pid_b").cast(nw.String))
                & ((nw.col("discharge_day") - nw.col("discharge_day_b")).abs() <= spread)
            )
            .select(
                "facility_code",
                "pid",
                "pid_b",
                "admit_day",
                "admit_day_b",
                (
                    (nw.col("admit_day") == nw.col("admit_day_b"))
                    & (nw.col("discharge_day") == nw.col("discharge_day_b"))
                ).alias("same_days"),
            )
        )
    return nw.concat(parts).unique()


def contact_rows(src: Source, pids: pl.DataFrame, t: DetectThresholds) -> nw.LazyFrame[Any] | None:
    """The scan: (pid, value, kind) of the phones and addresses of ``pids`` shared below an institution's size.

    A recruiter's phone, one village's addresses: what a group brought in together leaves behind.
    Values shared by ``institution_min`` persons or more (a care home's landline and address) do not count.
    None when the window has no contact columns.
    """
    names = src.claims.collect_schema().names()
    cols = [c for c in ("patient_phone", "contact_phone", "address_key") if c in names]
    mine = src.to_engine(pids)
    parts = []
    for c in cols:  # the pairs' own values first (few), then how many persons share each of them
        # the value keeps its type (a cast of every row costs more than the scan); only the few kept are cast
        every = src.claims.select("pid", nw.col(c).alias("value")).filter(~nw.col("value").is_null())
        own = every.join(mine, on="pid", how="semi").unique()
        sharing = (
            every.join(own.select("value").unique(), on="value", how="semi")
            .group_by("value")
            .agg(nw.col("pid").n_unique().alias("persons"))
            .filter(nw.col("persons") < t.institution_min)
        )
        parts.append(
            own.join(sharing.select("value"), on="value", how="semi").select(
                "pid", nw.col("value").cast(nw.String), nw.lit(c).alias("kind")
            )
        )
    return nw.concat(parts) if parts else None


def _shared_contacts(src: Source, pairs: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """(pid, pid_b) of the pairs that share a phone or an address below an institution's size."""
    pids = pl.concat([pairs.select("pid"), pairs.select(pl.col("pid_b").alias("pid"))]).unique()
    scan = contact_rows(src, pids, t)
    if scan is None:
        return pairs.select("pid", "pid_b").head(0)
    mine = src.collect(scan).with_columns(pl.col("pid").cast(pairs.schema["pid"]))
    return (
        pairs.select("pid", "pid_b")
        .unique()
        .join(mine, on="pid")
        .join(mine.rename({"pid": "pid_b"}), on=["pid_b", "kind", "value"])
        .select("pid", "pid_b")
        .unique()
    )


def co_admission(claims: ClaimsIn, t: DetectThresholds) -> pl.DataFrame:
    """Groups admitted together at one facility, and referred patients brought in batches (with cues)."""
    src = source_of(claims)
    refs = src.collect(referral_rows(src.claims, t))
    return union_leads(_co_admitted_groups(src, t), referred_groups(refs, t))


def _co_admitted_groups(src: Source, t: DetectThresholds) -> pl.DataFrame:
    """Groups of patients repeatedly admitted and discharged together (within a few days) at one facility."""
    together = src.collect(co_admit_rows(src.claims, t)).sort("facility_code", "pid", "pid_b", "admit_day")
    # together within a few days (not on the very same days) counts only beside a shared phone or address:
    # a small ward's chronic patients meet within a few days by chance, three at a time, now and then
    together = together.filter(
        pl.min_horizontal("admit_day", "admit_day_b").n_unique().over("facility_code", "pid", "pid_b")
        >= t.co_admit_min_repeats
    )
    loose = together.filter(~pl.col("same_days"))
    if not loose.is_empty():
        tied = _shared_contacts(src, loose, t)
        together = pl.concat([together.filter(pl.col("same_days")), loose.join(tied, on=["pid", "pid_b"], how="semi")])
    if together.is_empty():
        return finish(together, "co_admission", "induced_admission")
    # an episode of a pair is its earlier admission day; a pair counts after co_admit_min_repeats episodes
    pairs = (
        together.with_columns(pl.min_horizontal("admit_day", "admit_day_b").alias("episode"))
        .group_by("facility_code", "pid", "pid_b")
        .agg(pl.col("episode").n_unique().alias("times"))
        .filter(pl.col("times") >= t.co_admit_min_repeats)
    )
    comps = pair_components(pairs, "facility_code")
    if comps.is_empty():
        return finish(comps, "co_admission", "induced_admission")
    in_pairs = together.join(pairs.select("facility_code", "pid", "pid_b"), on=["facility_code", "pid", "pid_b"])
    episode_stays = pl.concat(
        [
            in_pairs.select("facility_code", "pid", "admit_day"),
            in_pairs.select("facility_code", pl.col("pid_b").alias("pid"), pl.col("admit_day_b").alias("admit_day")),
        ]
    ).unique()
    members = comps.select("facility_code", "pid").unique()
    stays = src.collect(
        stay_rows(src.claims).join(src.to_engine(members), on=["facility_code", "pid"], how="semi")
    ).with_columns(pl.col("facility_code").cast(comps.schema["facility_code"]), pl.col("pid").cast(comps.schema["pid"]))
    claim_rows = (
        stays.join(comps, on=["facility_code", "pid"])
        .join(episode_stays, on=["facility_code", "pid", "admit_day"], how="semi")
        .sort("facility_code", "comp", "admit_day")
        .with_columns(
            # the group's batches: its admissions merged when they start within the spread of each other
            (pl.col("admit_day").diff().fill_null(t.co_admit_spread_days + 1) > t.co_admit_spread_days)
            .cum_sum()
            .over("facility_code", "comp")
            .alias("batch")
        )
    )
    # A batch is a group admission: co_admit_min_group patients or more, booked in within twice the
    # spread. A ward of chronic patients who meet by chance chains into one long run, never a batch.
    batches = (
        claim_rows.group_by("facility_code", "comp", "batch")
        .agg(
            pl.col("pid").n_unique().alias("k"),
            (pl.col("admit_day").max() - pl.col("admit_day").min()).alias("span"),
        )
        .filter((pl.col("k") >= t.co_admit_min_group) & (pl.col("span") <= 2 * t.co_admit_spread_days))
    )
    claim_rows = claim_rows.join(
        batches.select("facility_code", "comp", "batch"), on=["facility_code", "comp", "batch"]
    )
    leads = (
        claim_rows.group_by("facility_code", "comp")
        .agg(
            pl.col("pid").unique().sort().alias("pids"),
            pl.col("claim_id").alias("claim_ids"),
            pl.col("batch").n_unique().alias("episodes"),
            pl.col("doctor_code").drop_nulls().unique().sort().alias("doctors"),
            pl.col("total_amount").sum().round(2).alias("amount"),
        )
        .with_columns(pl.col("pids").list.len().alias("patients"))
    )
    leads = leads.filter(
        (pl.col("patients") >= t.co_admit_min_group) & (pl.col("episodes") >= t.co_admit_min_repeats)
    ).with_row_index("lead")
    # Patients with no care anywhere else look invented (假病人); recruited ones have a history (诱导住院).
    persons = leads.select("lead", "facility_code", pl.col("pids").alias("pid")).explode("pid")
    seen = src.collect(
        src.claims.select("pid", nw.col("facility_code").alias("other"))
        .join(src.to_engine(persons.select("pid").unique()), on="pid", how="semi")
        .unique()
    ).with_columns(pl.col("pid").cast(persons.schema["pid"]), pl.col("other").cast(pl.String))
    elsewhere = (
        persons.join(seen, on="pid")
        .filter(pl.col("other") != pl.col("facility_code").cast(pl.String))
        .group_by("lead")
        .agg(pl.col("pid").n_unique().alias("with_history"))
    )
    leads = leads.join(elsewhere, on="lead", how="left").with_columns(
        (pl.col("with_history").fill_null(0) / pl.col("patients")).round(2).alias("history")
    )
    out = leads.with_columns(
        ((pl.col("patients") / 8).clip(0, 1) * 0.5 + (pl.col("episodes") / 4).clip(0, 1) * 0.5).alias("strength"),
        pl.format(
            "{} 名患者在机构 {} 成批同期入院、出院共 {} 批次",
            pl.col("patients"),
            pl.col("facility_code"),
            pl.col("episodes"),
        ).alias("evidence_zh"),
        pl.format(
            "{} patients admitted and discharged together (within days) at {} in {} batches",
            pl.col("patients"),
            pl.col("facility_code"),
            pl.col("episodes"),
        ).alias("evidence_en"),
        numbers_json("patients", "episodes", "history", "amount").alias("numbers"),
        pl.concat_list(
            pl.concat_list(member("Facility", "facility_code", "hospital")),
            member_list("Patient", "pids", "co_admitted"),
            member_list("Doctor", "doctors", "admitting_doctor"),
        ).alias("members"),
    )
    typology = pl.when(pl.col("history") < 0.3).then(pl.lit("ghost_patients")).otherwise(pl.lit("induced_admission"))
    return finish(out, "co_admission", typology)


def pair_components(pairs: pl.DataFrame, group_col: str) -> pl.DataFrame:
    """Connected components of pid pairs within each group: group_col, pid, comp."""
    if pairs.is_empty():
        return pl.DataFrame(schema={group_col: pairs.schema[group_col], "pid": pairs.schema["pid"], "comp": pl.Int64})
    nodes = (
        pl.concat([pairs.select(group_col, "pid"), pairs.select(group_col, pl.col("pid_b").alias("pid"))])
        .unique()
        .sort(group_col, "pid")
        .with_row_index("i")
    )
    e = pairs.join(nodes, on=[group_col, "pid"]).join(nodes.rename({"pid": "pid_b", "i": "j"}), on=[group_col, "pid_b"])
    graph = ig.Graph(n=nodes.height, edges=e.select("i", "j").to_numpy().tolist())
    return nodes.with_columns(pl.Series("comp", graph.connected_components().membership, dtype=pl.Int64)).drop("i")


def repeat_rows(claims: nw.LazyFrame[Any], t: DetectThresholds) -> nw.LazyFrame[Any]:
    """The scan: stays of patients admitted ``repeat_admission_min`` times by one doctor, of doctors with
    ``repeat_min_patients`` such patients (group-by and join: Spark has no distinct count over a window)."""
    stays = stay_rows(claims).with_columns(
        _key("facility_code").alias("_f"), _key("doctor_code").alias("_d"), _key("pid").alias("_p")
    )
    per = (
        stays.group_by("_f", "_d", "_p")
        .agg(nw.col("admit_day").n_unique().alias("admissions"))
        .filter(nw.col("admissions") >= t.repeat_admission_min)
    )
    doctors = (
        per.group_by("_f", "_d").agg(nw.len().alias("patients")).filter(nw.col("patients") >= t.repeat_min_patients)
    )
    keep = per.join(doctors.select("_f", "_d"), on=["_f", "_d"], how="semi").select("_f", "_d", "_p")
    return stays.join(keep, on=["_f", "_d", "_p"], how="semi").drop("_f", "_d", "_p")


def repeated_admission(claims: ClaimsIn, t: DetectThresholds) -> pl.DataFrame:
    """Patients admitted again and again: by one doctor, or at one facility under any doctor with cues."""
    src = source_of(claims)
    rows, counts = repeat_facility_rows(src.claims, t)
    by_facility = facility_repeats(src.collect(rows), src.collect(counts), t)
    return union_leads(_doctor_repeats(src, t), by_facility)


def _doctor_repeats(claims: ClaimsIn, t: DetectThresholds) -> pl.DataFrame:
    """Doctors whose patients are admitted by them again and again, several patients at once."""
    src = source_of(claims)
    stays = src.collect(repeat_rows(src.claims, t)).with_columns(pl.col("doctor_code").fill_null("?"))
    per = (
        stays.group_by("facility_code", "doctor_code", "pid")
        .agg(
            pl.col("admit_day").n_unique().alias("admissions"),
            pl.col("claim_id").alias("claim_ids"),
            pl.col("total_amount").sum().alias("amount"),
        )
        .filter(pl.col("admissions") >= t.repeat_admission_min)
    )
    leads = (
        per.group_by("facility_code", "doctor_code")
        .agg(
            pl.col("pid").sort().alias("pids"),
            pl.col("admissions").max().alias("max_admissions"),
            pl.col("admissions").sum().alias("admissions"),
            pl.col("claim_ids").list.explode(keep_nulls=False, empty_as_null=False),
            pl.col("amount").sum().round(2),
        )
        .with_columns(pl.col("pids").list.len().alias("patients"))
        .filter(pl.col("patients") >= t.repeat_min_patients)
    )
    out = leads.with_columns(
        (
            (pl.col("patients") / (2 * t.repeat_min_patients)).clip(0, 1) * 0.6
            + (pl.col("admissions") / pl.col("patients") / (2 * t.repeat_admission_min)).clip(0, 1) * 0.4
        ).alias("strength"),
        pl.format(
            "机构 {} 医师 {} 收治的 {} 名患者反复住院（共 {} 次，最多 {} 次）",
            pl.col("facility_code"),
            pl.col("doctor_code"),
            pl.col("patients"),
            pl.col("admissions"),
            pl.col("max_admissions"),
        ).alias("evidence_zh"),
        pl.format(
            "{} patients admitted again and again by doctor {} at {} ({} admissions, up to {} each)",
            pl.col("patients"),
            pl.col("doctor_code"),
            pl.col("facility_code"),
            pl.col("admissions"),
            pl.col("max_admissions"),
        ).alias("evidence_en"),
        numbers_json("patients", "admissions", "max_admissions", "amount").alias("numbers"),
        pl.concat_list(
            pl.concat_list(member("Facility", "facility_code", "hospital")),
            pl.concat_list(
                member("Doctor", pl.when(pl.col("doctor_code") != "?").then(pl.col("doctor_code")), "doctor")
            ),
            member_list("Patient", "pids", "readmitted"),
        ).alias("members"),
    )
    return finish(out, "repeated_admission", "repeated_admission")


def readmission_rows(claims: nw.LazyFrame[Any], t: DetectThresholds) -> nw.LazyFrame[Any]:
    """The scan: readmissions at one facility within ``readmit_max_days`` of the previous stay, with its diagnosis.

    Both rules of ``split_charges`` read it: the same diagnosis again, or another one (then the items).

    The previous stay is the neighbour in admission order (ties by claim id) — an ordered window,
    which both engines run; no as-of join (Narwhals has none on Spark). The window runs only over
    the patients with two stays or more at a facility (found by group-by and join): on all stays
    it costs Polars thirty times as much.
    """
    stays = stay_rows(claims).with_columns(_key("pid").alias("_p"), _key("facility_code").alias("_f"))
    again = stays.group_by("_p", "_f").agg(nw.len().alias("n")).filter(nw.col("n") >= 2).select("_p", "_f")
    order = ["admit_ts", "claim_id"]

    def prev(col: str) -> nw.Expr:
        return nw.col(col).shift(1).over("_p", "_f", order_by=order)

    return (
        stays.join(again, on=["_p", "_f"], how="semi")
        .with_columns(
            prev("discharge_day").alias("prev_discharge"),
            prev("diagnosis_code").alias("prev_diag"),
            prev("claim_id").alias("prev_claim"),
            prev("doctor_code").alias("prev_doctor"),
        )
        .filter(
            ~nw.col("prev_discharge").is_null()
            & ((nw.col("admit_day") - nw.col("prev_discharge")) <= t.readmit_max_days)
        )
        .with_columns((nw.col("admit_day") - nw.col("prev_discharge")).alias("gap"))
        .select(
            "claim_id",
            "prev_claim",
            "pid",
            "facility_code",
            "doctor_code",
            "prev_doctor",
            "diagnosis_code",
            "prev_diag",
            "gap",
            "total_amount",
        )
    )


def split_charges(claims: ClaimsIn, t: DetectThresholds, items: Items | None = None) -> pl.DataFrame:
    """Readmissions within days: for the same diagnosis, or under another one with a costly service billed again.

    The second rule reads the items of the few readmissions the scan keeps; without items it is not run.
    """
    src = source_of(claims, items)
    readmitted = src.collect(readmission_rows(src.claims, t)).sort("claim_id")  # one order from either engine
    same = _same_diagnosis_splits(readmitted.filter(pl.col("diagnosis_code") == pl.col("prev_diag")), t)
    if src.items is None and items is None:
        return same
    pairs = readmitted.filter(
        (pl.col("diagnosis_code") != pl.col("prev_diag"))
        & pl.col("pid").is_not_null()
        & pl.col("facility_code").is_not_null()
    )
    if pairs.is_empty():
        return same
    ids = pl.concat([pairs["claim_id"], pairs["prev_claim"]]).cast(pl.String).unique().to_frame("claim_id")
    cols = ("claim_id", "item_code", "item_category", "quantity", "amount")
    if src.items is not None:  # the items on the window's engine
        billed = src.collect(src.item_lines().select(*cols).join(src.to_engine(ids), on="claim_id", how="semi"))
    else:  # a claims-only source: the few readmissions' items from this machine's copy
        billed = collect(items.lazy().select(cols).join(ids.lazy(), on="claim_id", how="semi"))  # type: ignore[union-attr]
    return union_leads(same, cross_splits(pairs, billed, t))


def _same_diagnosis_splits(readmitted: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """Doctors whose patients are discharged and readmitted within days for the same diagnosis."""
    splits = readmitted.with_columns(pl.col("doctor_code").fill_null(pl.col("facility_code")).alias("who"))
    leads = (
        splits.group_by("facility_code", "who")
        .agg(
            pl.col("doctor_code").drop_nulls().first().alias("doctor_code"),
            pl.col("pid").unique().sort().alias("pids"),
            pl.len().alias("splits"),
            pl.concat_list("claim_id", "prev_claim")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .alias("claim_ids"),
            pl.col("total_amount").sum().round(2).alias("amount"),
        )
        .filter(pl.col("splits") >= 2)
    )
    out = leads.with_columns(
        (pl.col("splits") / 8).alias("strength"),
        pl.format(
            "医师/机构 {} 有 {} 次同诊断 {} 天内再入院（分解住院）",
            pl.col("who"),
            pl.col("splits"),
            pl.lit(t.readmit_max_days),
        ).alias("evidence_zh"),
        pl.format(
            "{} has {} readmissions for the same diagnosis within {} days (split stays)",
            pl.col("who"),
            pl.col("splits"),
            pl.lit(t.readmit_max_days),
        ).alias("evidence_en"),
        numbers_json("splits", "amount").alias("numbers"),
        pl.concat_list(
            pl.concat_list(member("Facility", "facility_code", "hospital")),
            pl.concat_list(member("Doctor", "doctor_code", "doctor")),
            member_list("Patient", "pids", "split_patient"),
        ).alias("members"),
    )
    return finish(out, "split_charges", "split_charges")


def overlap_rows(src: Source, t: DetectThresholds) -> tuple[nw.LazyFrame[Any], nw.LazyFrame[Any]]:
    """The scan: (the claims elsewhere during each barely treated or long stay, the stays per facility).

    A stay is barely treated (``thin``) at ``stay_max_items_per_day`` billed lines per day or fewer; a
    fully billed one is kept when it has ``stay_away_min_days`` days inside it (the finish then asks
    for claims elsewhere on most of them); elsewhere is
    an outpatient or pharmacy claim inside the stay, or another inpatient stay at another facility
    overlapping it by a day or more (a patient in two hospitals at once).
    """
    stays = stay_rows(src.claims)
    lines = (
        src.item_lines()
        .select("claim_id")
        .join(stays.select("claim_id"), on="claim_id", how="semi")
        .group_by("claim_id")
        .agg(nw.len().alias("lines"))
    )
    totals = stays.group_by("facility_code").agg(nw.len().alias("all_stays"))
    nights = (nw.col("discharge_day") - nw.col("admit_day")).clip(lower_bound=1)
    thin = nw.col("lines").fill_null(0) / nw.col("nights") <= t.stay_max_items_per_day
    barely = (
        stays.join(lines, on="claim_id", how="left")
        .with_columns(nights.alias("nights"))
        # a fully billed stay is looked at too, when it is long enough to be away on stay_away_min_days of it
        .filter(thin | (nw.col("nights") - 1 >= t.stay_away_min_days))
        .select(
            "pid",
            nw.col("facility_code").alias("stay_facility"),
            "admit_ts",
            "discharge_ts",
            nw.col("claim_id").alias("stay_claim"),
            nw.col("total_amount").alias("stay_amount"),
            thin.alias("thin"),
            "nights",
        )
    )
    inpatient = ~nw.col("admit_ts").is_null()
    others = src.claims.select(
        "pid",
        "facility_code",
        "claim_id",
        nw.coalesce("admit_ts", "claim_ts").alias("from_ts"),
        nw.when(inpatient).then(nw.col("discharge_ts")).otherwise(nw.col("claim_ts")).alias("to_ts"),
        inpatient.alias("inpatient"),
    )
    half = _DAY // 2
    inside = (nw.col("from_ts") > nw.col("admit_ts") + half) & (nw.col("from_ts") < nw.col("discharge_ts") - half)
    overlap = nw.min_horizontal("to_ts", "discharge_ts") - nw.max_horizontal("from_ts", "admit_ts")
    hits = (
        barely.join(others, on="pid")
        .filter(
            (nw.col("facility_code") != nw.col("stay_facility"))
            & nw.when(nw.col("inpatient")).then(overlap >= _DAY).otherwise(inside)
        )
        .select(
            "stay_claim",
            "pid",
            "stay_facility",
            "stay_amount",
            "thin",
            "nights",
            "inpatient",
            "claim_id",
            nw.col("from_ts").alias("claim_ts"),
        )
    )
    return hits, totals


def stay_overlap(claims: ClaimsIn, items: Items | None, t: DetectThresholds) -> pl.DataFrame:
    """Barely treated inpatient stays while the patient claims elsewhere (挂床), two or more patients per facility."""
    src = source_of(claims, items)
    hits_scan, totals_scan = overlap_rows(src, t)
    hits = src.collect(hits_scan).sort("stay_claim", "claim_ts", "claim_id")
    totals = src.collect(totals_scan)
    per_stay = (
        hits.group_by("stay_claim")
        .agg(
            pl.col("pid").first(),
            pl.col("stay_facility").first(),
            pl.col("stay_amount").first(),
            pl.col("thin").first(),
            pl.col("nights").first(),
            pl.col("claim_id").alias("away_claims"),
            ((pl.col("claim_ts") + _TZ) // _DAY).filter(~pl.col("inpatient")).n_unique().alias("away_days"),
        )
        .with_columns(
            # seen elsewhere on most days of the stay, however fully it is billed (挂床 with a full bill)
            (
                (pl.col("away_days") >= t.stay_away_min_days)
                & (pl.col("away_days") >= t.stay_away_min_share * (pl.col("nights") - 1))
            ).alias("mostly_away")
        )
        .filter(
            (pl.col("thin") & (pl.col("away_claims").list.len() >= t.stay_overlap_min_claims)) | pl.col("mostly_away")
        )
        .with_columns(pl.concat_list(pl.col("stay_claim"), pl.col("away_claims")).alias("claim_ids"))
    )
    leads = (
        per_stay.group_by("stay_facility")
        .agg(
            pl.col("pid").unique().sort().alias("pids"),
            pl.len().alias("stays"),
            pl.col("claim_ids").list.explode(keep_nulls=False, empty_as_null=False),
            pl.col("stay_amount").sum().round(2).alias("amount"),
            pl.col("mostly_away").sum().alias("away_most_days"),
        )
        .with_columns(pl.col("pids").list.len().alias("patients"))
        .filter(pl.col("patients") >= 2)
        .join(totals.rename({"facility_code": "stay_facility"}), on="stay_facility")
    )
    # Lift of this facility's share of such stays over the share across all facilities.
    base = per_stay.height / max(1, totals["all_stays"].sum())
    leads = leads.with_columns(((pl.col("stays") / pl.col("all_stays")) / max(base, 1e-6)).round(1).alias("lift"))
    leads = leads.filter(pl.col("lift") >= 2)
    out = leads.with_columns(
        ((pl.col("lift") - 1) / 8).clip(0, 1).alias("strength"),
        pl.format(
            "机构 {} 有 {} 次住院期间患者在别处结算（{} 人；其中 {} 次大部分日子在别处）",
            pl.col("stay_facility"),
            pl.col("stays"),
            pl.col("patients"),
            pl.col("away_most_days"),
        ).alias("evidence_zh"),
        pl.format(
            "{} stays at {} barely treated or away on most days, the patient claiming elsewhere ({} patients; "
            "{} away on most days)",
            pl.col("stays"),
            pl.col("stay_facility"),
            pl.col("patients"),
            pl.col("away_most_days"),
        ).alias("evidence_en"),
        numbers_json("stays", "patients", "away_most_days", "all_stays", "lift", "amount").alias("numbers"),
        pl.concat_list(
            pl.concat_list(member("Facility", "stay_facility", "hospital")),
            member_list("Patient", "pids", "absent_inpatient"),
        ).alias("members"),
    )
    return finish(out, "stay_overlap", "bed_holding")


def bed_pairs(claims: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """The scan: pairs of patients on one bed of one facility whose stays overlap by more than a day."""
    stays = (
        stay_rows(claims)
        .filter(~nw.col("bed_no").is_null() & (nw.col("bed_no") != ""))
        .select("facility_code", "bed_no", "pid", "admit_ts", "discharge_ts", "claim_id")
    )
    right = stays.select(
        "facility_code",
        "bed_no",
        nw.col("pid").alias("pid_b"),
        nw.col("admit_ts").alias("a2"),
        nw.col("discharge_ts").alias("d2"),
        nw.col("claim_id").alias("claim_b"),
    )
    return (
        stays.join(right, on=["facility_code", "bed_no"])
        .filter(
            (nw.col("pid") < nw.col("pid_b"))
            & (nw.col("admit_ts") < nw.col("d2") - _DAY)
            & (nw.col("a2") < nw.col("discharge_ts") - _DAY)
        )
        .select("facility_code", "bed_no", "pid", "pid_b", "claim_id", "claim_b")
    )


def shared_bed(claims: ClaimsIn, t: DetectThresholds) -> pl.DataFrame:
    """Different patients booked on the same bed of one facility at the same time (挂床, 虚假住院)."""
    src = source_of(claims)
    pairs = src.collect(bed_pairs(src.claims))
    if pairs.is_empty():
        return finish(pairs, "shared_bed", "bed_holding")
    comps = pair_components(pairs.select("facility_code", "pid", "pid_b").unique(), "facility_code")
    claims_of = pl.concat(
        [
            pairs.select("facility_code", "pid", "claim_id"),
            pairs.select("facility_code", pl.col("pid_b").alias("pid"), pl.col("claim_b").alias("claim_id")),
        ]
    ).unique()
    rows = claims_of.join(comps, on=["facility_code", "pid"])
    leads = (
        rows.group_by("facility_code", "comp")
        .agg(
            pl.col("pid").unique().sort().alias("pids"),
            pl.col("claim_id").unique().sort().alias("claim_ids"),
        )
        .with_columns(pl.col("pids").list.len().alias("patients"), pl.col("claim_ids").list.len().alias("stays"))
    )
    beds = pairs.group_by("facility_code").agg(pl.col("bed_no").n_unique().alias("beds"))
    leads = leads.join(beds, on="facility_code").filter(pl.col("patients") >= 3)
    out = leads.with_columns(
        (((pl.col("patients") - 2) / 4).clip(0, 1) * 0.6 + ((pl.col("stays") - 3) / 8).clip(0, 1) * 0.4).alias(
            "strength"
        ),
        pl.format(
            "机构 {} 的 {} 张床位上同时登记了不同患者（{} 人、{} 次住院）",
            pl.col("facility_code"),
            pl.col("beds"),
            pl.col("patients"),
            pl.col("stays"),
        ).alias("evidence_zh"),
        pl.format(
            "{} patients booked on the same {} beds at the same time at {} ({} stays)",
            pl.col("patients"),
            pl.col("beds"),
            pl.col("facility_code"),
            pl.col("stays"),
        ).alias("evidence_en"),
        numbers_json("patients", "beds", "stays").alias("numbers"),
        pl.concat_list(
            pl.concat_list(member("Facility", "facility_code", "hospital")),
            member_list("Patient", "pids", "bed_sharer"),
        ).alias("members"),
    )
    return finish(out, "shared_bed", "bed_holding")
