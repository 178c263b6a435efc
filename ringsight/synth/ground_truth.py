"""The ground-truth file: every planted ring with its members, claims and amounts, and the look-alike groups.

Members are given by the canonical identifiers that appear in the claims
files (resident IDs, card IDs, phone numbers, address text as written,
facility codes, doctor codes), so a scorer can match detected clusters to
rings without knowing anything about the generator.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ringsight.synth.claims import World
from ringsight.synth.config import SynthConfig
from ringsight.synth.planter import MEMBER_KINDS, Ring


def members(ring: Ring, world: World) -> dict[str, list[str]]:
    """A ring's members by kind, as the identifiers written in the claims files (sorted, unique)."""
    pop, fac = world.population, world.facilities
    persons = np.array(sorted(set(ring.persons)), np.int64)
    cards = np.array(sorted(set(ring.cards_of)), np.int64)
    out = {
        "patients": pop.frame["patient_id"].gather(persons).to_list() if len(persons) else [],
        "cards": pop.frame["card_id"].gather(cards).to_list() if len(cards) else [],
        "phones": list(ring.phones),
        "addresses": list(ring.addresses),
        "facilities": [fac.frame["facility_id"][int(f)] for f in ring.facilities],
        "doctors": [fac.doctors["doctor_id"][int(d)] for d in ring.doctors],
    }
    return {kind: sorted(set(out[kind])) for kind in MEMBER_KINDS}


def ring_entry(ring: Ring, world: World, planted: pl.DataFrame) -> dict[str, Any]:
    """The JSON object of one planted ring."""
    rows = planted[ring.claim_rows] if ring.claim_rows else planted.clear()
    entry = {
        "ring_id": ring.ring_id,
        "typology": ring.typology,
        "rendering": ring.rendering,
        "held_back": ring.held_back,
        "members": members(ring, world),
        "core": ring.core,
        "claim_ids": rows["claim_id"].to_list(),
        "amount": round(float(rows["total_amount"].sum()), 2),
        "fund_amount": round(float(rows["fund_paid"].sum()), 2),
        "rectification_date": ring.rectification_date.isoformat() if ring.rectification_date else None,
        "description_en": ring.description_en,
        "description_zh": ring.description_zh,
    }
    if ring.sanctioned:  # only the facilities that were rectified (otherwise: all of the ring's)
        entry["sanctioned_facilities"] = [world.facilities.frame["facility_id"][int(f)] for f in ring.sanctioned]
    return entry


def lookalike_entry(group: Ring, world: World) -> dict[str, Any]:
    """The JSON object of one look-alike group."""
    return {
        "group_id": group.ring_id,
        "kind": group.typology,
        "members": members(group, world),
        "description_en": group.description_en,
    }


def write_ground_truth(
    path: Path, config: SynthConfig, rings: list[Ring], lookalikes: list[Ring], world: World, planted: pl.DataFrame
) -> None:
    """Write ground_truth.json (UTF-8, stable key order, so the same seed gives the same bytes)."""
    doc = {
        "seed": config.seed,
        "claims": config.claims,
        "start": config.start.isoformat(),
        "days": config.days,
        "city": config.city,
        "rings": [ring_entry(r, world, planted) for r in rings],
        "lookalikes": [lookalike_entry(g, world) for g in lookalikes],
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
