"""Ghost patients behind shared contact details (假病人, 虚构住院).

Persons are grouped by the contact details their claims carry: persons
sharing an own phone, an emergency-contact phone or an address with
``household_max`` − 1 or more others are linked, and a *contact group* is a
connected set of ``ghost_min_persons`` or more. A smaller household's
contacts do not link (they are most of all shared contacts), and an institution's
(an address of ``institution_min`` or more residents, or a phone whose
persons all live at one such address) never does: that is a care home or a
dormitory.

A contact group is a ghost-patient lead when ``ghost_min_share`` of its
persons stayed at one facility as inpatients, and at least
``ghost_min_cues`` of these cues agree:

- **no history** — 70 % or more of them claimed nowhere else in the window;
- **few stays** — at most two stays each at that facility (a ghost is
  admitted once or twice; a chronic patient comes back);
- **private** — the facility's ownership is private;
- **one diagnosis** — half or more of their stays there share a diagnosis;
- **several contacts** — the group is held together by two or more shared
  phones or addresses (a family shares one of each).

Look-alikes ruled out: a family admitted to the same hospital (fewer than
``ghost_min_persons``); a care home's residents treated at the hospital
nearby (institution contacts never link them, and they have a history at
their community clinic); unrelated persons sharing one wrong phone number
(no common facility).
"""

from __future__ import annotations

import re
from typing import Any

import igraph as ig
import narwhals as nw
import polars as pl

from ringsight.algorithms.engine import Source, source_of
from ringsight.algorithms.leads import finish, member_list, numbers_json
from ringsight.config import DetectThresholds

GHOST_CUES = ("no_history", "few_stays", "private", "one_diagnosis", "several_contacts")
#: Persons on one contact before it links them (two is every couple sharing a landline).
_MIN_SHARING = 3
_CONTACTS = (("patient_phone", "Phone"), ("contact_phone", "Phone"), ("address_key", "Address"))
Frame = nw.LazyFrame[Any]


def _persons_per_value(claims: Frame, col: str, lo: int) -> Frame:
    """Values of ``col`` held by ``lo`` or more distinct persons, with their person count ``n``."""
    pairs = claims.filter(~nw.col(col).is_null()).select(col, "pid").unique()
    return pairs.group_by(col).agg(nw.len().alias("n")).filter(nw.col("n") >= lo)


def membership_scan(src: Source, t: DetectThresholds) -> pl.DataFrame:
    """The scan: (label, value, pid, institution) of contacts shared by household_max..institution_min−1 persons.

    ``institution``: the row's person lives at an address of ``institution_min`` or more residents.
    Counting distinct persons per value runs on the engine; only the rows of the few shared values
    come back.
    """
    claims = src.claims.filter(~nw.col("pid").is_null())
    lo = max(_MIN_SHARING, t.household_max)
    institutions = (
        _persons_per_value(claims, "address_key", t.institution_min)
        .select("address_key")
        .with_columns(nw.lit(True).alias("institution"))
    )
    parts = []
    for col, label in _CONTACTS:
        shared = _persons_per_value(claims, col, lo).filter(nw.col("n") < t.institution_min).select(col)
        rows = claims.select(*dict.fromkeys([col, "pid", "address_key"])).join(shared, on=col, how="semi")
        parts.append(
            rows.join(institutions, on="address_key", how="left").select(
                nw.lit(label).alias("label"),
                nw.col(col).cast(nw.String).alias("value"),
                nw.col("pid").cast(nw.String),
                nw.col("institution").fill_null(False),
            )
        )
    return src.collect(nw.concat(parts).unique())


def _memberships(src: Source, t: DetectThresholds) -> pl.DataFrame:
    """(label, value, pid) of shared contacts, institutions left out (see :func:`membership_scan`)."""
    rows = membership_scan(src, t).with_columns(pl.col("institution").cast(pl.Boolean))
    # a phone whose persons all live at one institution address is its front desk
    desk = (pl.col("label") == "Phone") & pl.col("institution").all().over("label", "value")
    return rows.filter(~desk).select("label", "value", "pid").unique()


def _groups(members: pl.DataFrame, min_persons: int) -> pl.DataFrame:
    """Connected contact groups: pid, group (only groups of ``min_persons`` or more persons)."""
    if members.is_empty():
        return pl.DataFrame(schema={"pid": pl.String, "group": pl.Int64})
    persons = members.select("pid").unique().sort("pid").with_row_index("i")
    contacts = members.select("label", "value").unique().sort("label", "value").with_row_index("j")
    offset = persons.height
    edges = members.join(persons, on="pid").join(contacts, on=["label", "value"])
    graph = ig.Graph(n=offset + contacts.height, edges=edges.select("i", pl.col("j") + offset).to_numpy().tolist())
    comp = pl.Series("group", graph.connected_components().membership, dtype=pl.Int64)
    out = persons.with_columns(comp.slice(0, offset)).select("pid", "group")
    return out.filter(pl.len().over("group") >= min_persons)


def _stay_evidence(template: str) -> pl.Expr:
    """One language's evidence sentence for a contact-stay lead, its numbers placed by name.

    The two languages put facility and stay count in different orders; naming the fields
    keeps both sentences on one list of columns.
    """
    cue_names = pl.concat_str(
        [pl.when(pl.col(c)).then(pl.lit(c)) for c in GHOST_CUES], separator=", ", ignore_nulls=True
    )
    fields = {
        "staying": pl.col("staying"),
        "phones": pl.col("phones").list.len(),
        "addresses": pl.col("addresses").list.len(),
        "facility": pl.col("facility_code"),
        "stays": pl.col("stays"),
        "cue_names": cue_names,
    }
    order = re.findall(r"\{(\w+)\}", template)
    return pl.format(re.sub(r"\{\w+\}", "{}", template), *(fields[name] for name in order))


def contact_stays(claims: pl.DataFrame | Source, t: DetectThresholds) -> pl.DataFrame:
    """Groups of persons tied by shared contacts whose inpatient stays gather at one facility."""
    src = source_of(claims)
    members = _memberships(src, t)
    groups = _groups(members, t.ghost_min_persons)
    if groups.is_empty():
        return finish(groups, "contact_stays", "ghost_patients")
    mine = src.collect(
        src.claims.select(
            nw.col("pid").cast(nw.String),
            "facility_code",
            "facility_ownership",
            "diagnosis_code",
            "claim_id",
            "admit_ts",
            "total_amount",
        ).join(src.to_engine(groups), on="pid")
    ).with_columns(pl.col(c).cast(pl.String) for c in ("facility_code", "facility_ownership", "diagnosis_code"))
    size = groups.group_by("group").agg(pl.len().alias("persons"))
    stays = mine.filter(pl.col("admit_ts").is_not_null())
    at = (
        stays.group_by("group", "facility_code")
        .agg(
            pl.col("pid").unique().sort().alias("pids"),
            pl.len().alias("stays"),
            (pl.col("facility_ownership") == "private").any().alias("private"),
            (
                pl.col("diagnosis_code").drop_nulls().value_counts().struct.field("count").max().fill_null(0) / pl.len()
            ).alias("diag_share"),
            pl.col("pid").value_counts().struct.field("count").max().alias("max_stays"),
            pl.col("claim_id").alias("claim_ids"),
            pl.col("total_amount").sum().round(2).alias("amount"),
        )
        .join(size, on="group")
        .with_columns(pl.col("pids").list.len().alias("staying"))
        .filter(pl.col("staying") / pl.col("persons") >= t.ghost_min_share)
    )
    if at.is_empty():
        return finish(at, "contact_stays", "ghost_patients")
    elsewhere = (
        mine.join(at.select("group", pl.col("facility_code").alias("at")), on="group")
        .filter(pl.col("facility_code") != pl.col("at"))
        .group_by("group", "at")
        .agg(pl.col("pid").n_unique().alias("with_history"))
        .rename({"at": "facility_code"})
    )
    contacts = (
        members.join(groups, on="pid")
        .group_by("group")
        .agg(
            pl.col("value").filter(pl.col("label") == "Phone").unique().sort().alias("phones"),
            pl.col("value").filter(pl.col("label") == "Address").unique().sort().alias("addresses"),
        )
    )
    at = (
        at.join(elsewhere, on=["group", "facility_code"], how="left")
        .join(contacts, on="group")
        .with_columns(
            (1 - pl.col("with_history").fill_null(0) / pl.col("staying")).round(2).alias("no_history_share"),
            (pl.col("phones").list.len() + pl.col("addresses").list.len()).alias("n_contacts"),
        )
        .with_columns(
            (pl.col("no_history_share") >= 0.7).alias("no_history"),
            (pl.col("max_stays") <= 2).alias("few_stays"),
            (pl.col("diag_share") >= 0.5).alias("one_diagnosis"),
            (pl.col("n_contacts") >= 2).alias("several_contacts"),
        )
        .with_columns(pl.sum_horizontal([pl.col(c).cast(pl.Int32) for c in GHOST_CUES]).alias("cues"))
        .filter(pl.col("cues") >= t.ghost_min_cues)
    )
    out = at.with_columns(
        ((pl.col("cues") / len(GHOST_CUES)) * 0.7 + (pl.col("staying") / 20).clip(0, 1) * 0.3).alias("strength"),
        _stay_evidence(
            "{staying} 名共用 {phones} 个电话、{addresses} 个地址的参保人"
            "在机构 {facility} 住院 {stays} 次（线索：{cue_names}）"
        ).alias("evidence_zh"),
        _stay_evidence(
            "{staying} insured persons sharing {phones} phones and {addresses} addresses stayed {stays} times "
            "at {facility} (cues: {cue_names})"
        ).alias("evidence_en"),
        numbers_json(
            "persons",
            "staying",
            "stays",
            "max_stays",
            "no_history_share",
            "diag_share",
            "n_contacts",
            "cues",
            *GHOST_CUES,
            "amount",
        ).alias("numbers"),
        pl.concat_list(
            pl.concat_list(
                pl.struct(
                    pl.lit("Facility").alias("label"),
                    pl.col("facility_code").alias("key"),
                    pl.lit("hospital").alias("role"),
                )
            ),
            member_list("Patient", "pids", "ghost_patient"),
            member_list("Phone", "phones", "shared_phone"),
            member_list("Address", "addresses", "shared_address"),
        ).alias("members"),
    )
    return finish(out, "contact_stays", "ghost_patients")
