"""What each detector could look at: which of the inputs it needs are present in the window.

Why: an export without phones, items or pharmacy claims gives "0 leads" from
half the detectors, and "0 leads" must not read as "nothing suspicious". The
run report, the CLI summary and the workbench say, per detector, ``ok``,
``partial`` (an input that sharpens it is absent; it still ran) or
``no input`` (an input it needs is absent; it had nothing to work on).

Every check is one Polars aggregate over the window's frames (items may be a
lazy scan, read once for two counts).
"""

from __future__ import annotations

import polars as pl

from ringsight.algorithms import geo
from ringsight.algorithms.lazy import Items

#: Each input's check over the claims (a boolean expression true on rows that carry it).
_CLAIM_INPUTS: dict[str, pl.Expr] = {
    "cards": pl.col("card_id").is_not_null(),
    "phones": pl.col("patient_phone").is_not_null() | pl.col("contact_phone").is_not_null(),
    "addresses": pl.col("address_key").is_not_null(),
    "terminal ids": pl.col("terminal_id").is_not_null(),
    "operators": pl.col("operator_id").is_not_null(),
    "doctors": pl.col("doctor_code").is_not_null(),
    "diagnoses": pl.col("diagnosis_code").is_not_null(),
    "holders' sex": pl.col("patient_gender").is_not_null(),
    "birth cohorts": pl.col("birth_cohort").is_not_null(),
    "beds": pl.col("bed_no").is_not_null(),
    "inpatient stays": pl.col("admit_ts").is_not_null() & pl.col("discharge_ts").is_not_null(),
    "pharmacy claims": pl.col("facility_kind").cast(pl.String) == "pharmacy",
    "prescriptions filled at pharmacies": (pl.col("facility_kind").cast(pl.String) == "pharmacy")
    & pl.col("doctor_code").is_not_null(),
    "facility ownership": pl.col("facility_ownership").is_not_null(),
    # the loader located the home address to its county (gazetteer); else homes are guessed from facilities
    "located home addresses": pl.col("patient_county").is_not_null(),
}

#: detector → (inputs it needs: each a tuple of alternatives, any one will do; inputs that sharpen it).
NEEDS: dict[str, tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]] = {
    "shared_card": ((("cards",),), ()),
    "shared_phone": ((("phones",),), ("addresses",)),
    "shared_address": ((("addresses",),), ()),
    "contact_stays": ((("phones", "addresses"), ("inpatient stays",)), ("facility ownership", "diagnoses")),
    "burst_swiping": (
        (("cards",),),
        ("terminal ids", "operators", "pharmacy claims", "facility places", "located home addresses"),
    ),
    "identical_baskets": ((("items",), ("pharmacy claims",)), ()),
    "goods_as_drugs": ((("items",), ("pharmacy claims",)), ("diagnoses",)),
    "co_admission": ((("inpatient stays",),), ("doctors", "facility ownership", "facility places")),
    "repeated_admission": ((("inpatient stays",),), ("doctors", "facility ownership")),
    "split_charges": ((("inpatient stays",), ("diagnoses",)), ("doctors", "items")),
    "stay_overlap": ((("inpatient stays",),), ("items",)),
    "shared_bed": ((("inpatient stays",), ("beds",)), ()),
    "doctor_pharmacy": (
        (("prescriptions filled at pharmacies",),),
        ("items", "operators", "facility places"),
    ),
    "drug_shopping": ((("items",), ("pharmacy claims",)), ()),
    "impossible_travel": ((("cards",),), ("phones", "facility places", "located home addresses")),
    "trace_code_resale": ((("trace codes",),), ()),
    "card_lending": ((("cards",), ("diagnoses",), ("holders' sex", "birth cohorts")), ("phones",)),
}


def inputs_present(claims: pl.DataFrame, items: Items) -> dict[str, int]:
    """How many rows carry each input (claims for claim inputs, item rows for items and trace codes)."""
    counts: dict[str, int] = {}
    if claims.height:
        present = [name for name in _CLAIM_INPUTS if all(c in claims.columns for c in _columns(_CLAIM_INPUTS[name]))]
        row = claims.select([_CLAIM_INPUTS[n].fill_null(False).sum().alias(n) for n in present]).row(0, named=True)
        counts.update({k: int(v or 0) for k, v in row.items()})
        codes = claims.select(pl.col("facility_code").cast(pl.String).unique().drop_nulls()).to_series()
        counts["facility places"] = geo.places(codes.rename("facility_code")).height
    lazy = items.lazy()
    item_row = (
        lazy.select(
            pl.len().alias("items"), pl.col("trace_codes").list.len().fill_null(0).gt(0).sum().alias("trace codes")
        )
        .collect(engine="streaming")
        .row(0, named=True)
    )
    counts.update({k: int(v or 0) for k, v in item_row.items()})
    return counts


def _columns(expr: pl.Expr) -> list[str]:
    return expr.meta.root_names()


def detector_coverage(claims: pl.DataFrame, items: Items, leads: pl.DataFrame | None = None) -> list[dict]:
    """Per detector: status (ok | partial | no input), the inputs missing, and its lead count."""
    have = inputs_present(claims, items)
    found = {} if leads is None or leads.is_empty() else dict(leads.group_by("detector").len().iter_rows())
    out = []
    for name, (needs, sharpen) in NEEDS.items():
        missing = [" or ".join(alts) for alts in needs if not any(have.get(a, 0) > 0 for a in alts)]
        weaker = [s for s in sharpen if have.get(s, 0) == 0]
        status = "no input" if missing else ("partial" if weaker else "ok")
        out.append(
            {
                "detector": name,
                "status": status,
                "missing": missing,
                "without": weaker,
                "leads": int(found.get(name, 0)),
            }
        )
    return out


def summary_line(coverage: list[dict]) -> str:
    """One sentence for the CLI: which detectors had nothing to work on, and why."""
    idle = [c for c in coverage if c["status"] == "no input"]
    if not idle:
        return "every detector had its inputs"
    parts = [f"{c['detector']} (no {', no '.join(c['missing'])})" for c in idle]
    return f"{len(idle)} of {len(coverage)} detectors had nothing to work on: " + "; ".join(parts)
