"""Shared-attribute detectors: one card, phone or address used by more persons than a household.

Households legitimately share an address, a phone and — under family mutual
aid (个账家庭共济) — a card; nursing homes and dormitories share an address
(and often a front-desk phone) among dozens of residents. So a card counts
from ``card_min_persons`` persons, a phone from ``phone_min_persons``
persons that are not one household (at most ``household_max`` at one address)
nor one institution's residents, and an address only between ``household_max`` and
``institution_min`` residents.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from ringsight.algorithms.engine import Source, source_of
from ringsight.algorithms.evidence import entity_ref
from ringsight.algorithms.leads import finish, member, member_list, numbers_json
from ringsight.config import DetectThresholds

#: The window's claims: a Polars frame (this machine) or a :class:`Source` on either engine.
ClaimsIn = pl.DataFrame | Source


def shared_rows(claims: nw.LazyFrame[Any], col: str, min_persons: int) -> nw.LazyFrame[Any]:
    """The scan: claim rows whose ``col`` value is shared by at least ``min_persons`` persons.

    Written once on Narwhals (see :mod:`ringsight.algorithms.engine`): Polars runs it here, Spark on
    a cluster; only the rows of the few shared values come back.
    """
    keep = list(dict.fromkeys([col, "pid", "address_key", "claim_id", "total_amount"]))
    base = claims.select(keep).filter(~nw.col(col).is_null() & (nw.col(col) != "") & ~nw.col("pid").is_null())
    shared = base.group_by(col).agg(nw.col("pid").n_unique().alias("n")).filter(nw.col("n") >= min_persons)
    return base.join(shared.select(col), on=col, how="semi")


def _persons_by(claims: ClaimsIn, col: str, min_persons: int = 2) -> pl.DataFrame:
    """Per value of ``col`` shared by at least ``min_persons`` persons: the persons, addresses and claims."""
    src = source_of(claims)
    sub = src.collect(shared_rows(src.claims, col, min_persons))
    return (
        sub.group_by(col)
        .agg(
            pl.col("pid").unique().sort().alias("pids"),
            pl.col("address_key").drop_nulls().unique().alias("addresses"),
            pl.col("claim_id").alias("claim_ids"),
            pl.col("total_amount").sum().round(2).alias("amount"),  # cents: the same whatever the row order
        )
        .with_columns(pl.col("pids").list.len().alias("persons"), pl.col("addresses").list.len().alias("n_addr"))
        .filter(pl.col("persons") >= min_persons)
    )


def _institutions(claims: ClaimsIn, t: DetectThresholds) -> pl.Series:
    """Addresses with ``institution_min`` or more residents (nursing homes, dormitories)."""
    return _persons_by(claims, "address_key", t.institution_min)["address_key"]


def shared_card(claims: ClaimsIn, t: DetectThresholds) -> pl.DataFrame:
    """Cards used by ``card_min_persons`` or more distinct persons (冒名就医, 盗刷)."""
    groups = _persons_by(claims, "card_id", t.card_min_persons)
    groups = groups.filter(~((pl.col("n_addr") == 1) & (pl.col("persons") <= t.household_max - 2)))
    out = groups.with_columns(
        ((pl.col("persons") - t.card_min_persons + 1) / 3).alias("strength"),
        pl.format("医保卡 {} 被 {} 名不同参保人使用", entity_ref("card", "card_id"), pl.col("persons")).alias(
            "evidence_zh"
        ),
        pl.format(
            "card {} used by {} different insured persons", entity_ref("card", "card_id"), pl.col("persons")
        ).alias("evidence_en"),
        numbers_json("persons", "n_addr", "amount").alias("numbers"),
        pl.concat_list(
            pl.concat_list(member("Card", "card_id", "shared_card")), member_list("Patient", "pids", "card_user")
        ).alias("members"),
    )
    return finish(out, "shared_card", "impersonation")


def shared_phone(claims: ClaimsIn, t: DetectThresholds) -> pl.DataFrame:
    """Own or emergency-contact phones shared by unrelated persons beyond a household."""
    institutions = _institutions(claims, t)
    frames = []
    for col, role, zh, en in (
        ("patient_phone", "shared_phone", "手机号", "phone"),
        ("contact_phone", "contact_phone", "联系人电话", "contact phone"),
    ):
        groups = _persons_by(claims, col, t.phone_min_persons)
        groups = groups.filter(
            ~((pl.col("n_addr") <= 1) & (pl.col("persons") <= t.household_max))
            & ~((pl.col("n_addr") == 1) & pl.col("addresses").list.first().is_in(institutions.implode()))
        )
        out = groups.with_columns(
            ((pl.col("persons") - t.phone_min_persons + 1) / 4).alias("strength"),
            pl.format(
                f"{zh} {{}} 被 {{}} 名参保人共用，分属 {{}} 个住址",
                entity_ref("phone", col),
                pl.col("persons"),
                pl.col("n_addr"),
            ).alias("evidence_zh"),
            pl.format(
                f"{en} {{}} shared by {{}} insured persons at {{}} addresses",
                entity_ref("phone", col),
                pl.col("persons"),
                pl.col("n_addr"),
            ).alias("evidence_en"),
            numbers_json("persons", "n_addr", "amount").alias("numbers"),
            pl.concat_list(
                pl.concat_list(member("Phone", col, role)), member_list("Patient", "pids", "phone_user")
            ).alias("members"),
        )
        frames.append(finish(out, "shared_phone", "ghost_patients"))
    return pl.concat(frames)


def shared_address(claims: ClaimsIn, t: DetectThresholds) -> pl.DataFrame:
    """Addresses with more residents than a household but fewer than an institution."""
    groups = _persons_by(claims, "address_key", t.household_max + 1).filter(
        (pl.col("persons") > t.household_max) & (pl.col("persons") < t.institution_min)
    )
    out = groups.with_columns(
        ((pl.col("persons") - t.household_max) / 6).alias("strength"),
        pl.format("住址 {} 登记了 {} 名参保人", entity_ref("address", "address_key"), pl.col("persons")).alias(
            "evidence_zh"
        ),
        pl.format(
            "{} insured persons registered at address {}", pl.col("persons"), entity_ref("address", "address_key")
        ).alias("evidence_en"),
        numbers_json("persons", "amount").alias("numbers"),
        pl.concat_list(
            pl.concat_list(member("Address", "address_key", "shared_address")),
            member_list("Patient", "pids", "resident"),
        ).alias("members"),
    )
    return finish(out, "shared_address", "ghost_patients")
