"""Ordinary billed lines for claims: a visit fee, tests, drugs that treat the diagnosis, bed days for stays.

Vectorised over claims: each line type is drawn for all claims at once and
the lines are then ordered by claim. Drugs settled at pharmacies (and some
outpatient drugs) carry one trace code per package, unique across the run.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ringsight.synth.catalog import DIAG_INDEX, ITEM_INDEX, PRICES, drug_pools, items_in
from ringsight.synth.claims import INPATIENT, ITEM_SPEC_SCHEMA, OUTPATIENT, PHARMACY_VISIT

_POOLS = drug_pools()
_TEST_OUT = items_in("test_out")
_TEST_INP = np.concatenate([items_in("test_inp"), items_in("test_out")])
_MATS = items_in("mat")
_VISIT_FEE = ITEM_INDEX["普通门诊诊查费"]
_BED, _NURSING, _INFUSION = ITEM_INDEX["床位费"], ITEM_INDEX["一级护理"], ITEM_INDEX["静脉输液"]
_SURGERY = np.array([ITEM_INDEX["手术费"], ITEM_INDEX["麻醉费"]])
_SURGICAL = {
    DIAG_INDEX["K35.800"]: -1,
    DIAG_INDEX["K80.200"]: -1,
    DIAG_INDEX["S82.800"]: ITEM_INDEX["骨科内固定钢板"],
    DIAG_INDEX["H25.900"]: ITEM_INDEX["人工晶状体"],
}
_NO_DRUGS = DIAG_INDEX["Z34.900"]


def _distinct_picks(
    rows: np.ndarray,
    k: np.ndarray,
    pool_start: np.ndarray,
    pool_n: np.ndarray,
    flat: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """k[i] distinct items for row i from its pool flat[pool_start[i] : pool_start[i] + pool_n[i]]."""
    k = np.minimum(k, pool_n)
    rep = np.repeat(np.arange(len(rows)), k)
    j = np.arange(len(rep)) - np.repeat(np.cumsum(k) - k, k)
    first = rng.integers(0, 1 << 30, len(rows))
    pick = flat[pool_start[rep] + (first[rep] + j) % pool_n[rep]]
    return rows[rep], pick


def _lines(
    row: np.ndarray,
    item: np.ndarray,
    qty: np.ndarray | int,
    trace_n: np.ndarray | int = 0,
    external: np.ndarray | bool = False,
    doctor: np.ndarray | int = -1,
) -> dict[str, np.ndarray]:
    n = len(row)
    return {
        "row": row,
        "item": np.broadcast_to(item, n).astype(np.int64),
        "qty": np.broadcast_to(qty, n).astype(np.int64),
        "trace_n": np.broadcast_to(trace_n, n).astype(np.int64),
        "external": np.broadcast_to(external, n).astype(bool),
        "item_doctor": np.broadcast_to(doctor, n).astype(np.int64),
    }


def auto_items(
    visit: np.ndarray,
    diag: np.ndarray,
    los: np.ndarray,
    rng: np.random.Generator,
    refill_drug: np.ndarray | None = None,
    refill_qty: np.ndarray | None = None,
    external_doctor: np.ndarray | None = None,
    row_offset: int = 0,
) -> pl.DataFrame:
    """Item spec rows for claims described by visit type, diagnosis and stay length.

    Parameters
    ----------
    visit, diag, los : per claim; ``los`` in days (inpatient only)
    refill_drug, refill_qty : per claim; a chronic patient's monthly drug (-1 = not a refill)
    external_doctor : per claim; a pharmacy fill of this doctor's prescription (-1 = none)
    row_offset : added to ``row`` (claim position in the spec the items belong to)
    """
    n = len(visit)
    idx = np.arange(n)
    refill_drug = np.full(n, -1) if refill_drug is None else refill_drug
    refill_qty = np.ones(n, np.int64) if refill_qty is None else refill_qty
    external_doctor = np.full(n, -1) if external_doctor is None else external_doctor
    out, inp, pha = visit == OUTPATIENT, visit == INPATIENT, visit == PHARMACY_VISIT
    parts: list[dict[str, np.ndarray]] = []

    rows = idx[out]
    parts.append(_lines(rows, _VISIT_FEE, 1))
    k = rng.choice([0, 1, 2], size=len(rows), p=[0.45, 0.35, 0.2])
    r, it = _distinct_picks(rows, k, np.zeros(len(rows), np.int64), np.full(len(rows), len(_TEST_OUT)), _TEST_OUT, rng)
    parts.append(_lines(r, it, 1))

    rows = idx[inp]
    days = np.maximum(los[rows], 1)
    parts += [_lines(rows, _BED, days), _lines(rows, _NURSING, days), _lines(rows, _INFUSION, days // 2 + 1)]
    k = rng.integers(1, 4, len(rows))
    r, it = _distinct_picks(rows, k, np.zeros(len(rows), np.int64), np.full(len(rows), len(_TEST_INP)), _TEST_INP, rng)
    parts.append(_lines(r, it, 1))
    r = rows[rng.random(len(rows)) < 0.7]
    parts.append(_lines(r, _MATS[rng.integers(0, len(_MATS), len(r))], rng.integers(1, 10, len(r))))
    for d, implant in _SURGICAL.items():
        r = rows[diag[rows] == d]
        parts += [_lines(r, s, 1) for s in _SURGERY]
        if implant >= 0:
            parts.append(_lines(r, implant, 1))

    # drugs: outpatient 1–3 (most visits), pharmacy 1–3, inpatient 2–6 with larger quantities
    refill = refill_drug >= 0
    refill_lines = sum(len(p["row"]) for p in parts)  # lines before this one are not drugs
    parts.append(_lines(idx[refill], refill_drug[refill], refill_qty[refill], trace_n=refill_qty[refill]))
    refill_lines += int(refill.sum())
    k = np.select(
        [out, pha & refill, pha, inp],
        [
            rng.choice([0, 1, 2, 3], n, p=[0.15, 0.4, 0.3, 0.15]),
            (rng.random(n) < 0.4).astype(np.int64),
            rng.choice([1, 2, 3], n, p=[0.55, 0.3, 0.15]),
            rng.integers(2, 7, n),
        ],
        0,
    )
    k = np.where((diag == _NO_DRUGS) & ~pha, 0, k)
    d = np.maximum(diag, 0)
    r, it = _distinct_picks(idx, k, _POOLS.start[d], _POOLS.n[d], _POOLS.flat, rng)
    qty = np.where(visit[r] == INPATIENT, rng.integers(2, 21, len(r)), rng.choice([1, 1, 1, 2, 2, 3], len(r)))
    traced = (visit[r] == PHARMACY_VISIT) | ((visit[r] == OUTPATIENT) & (rng.random(len(r)) < 0.3))
    ext_doc = external_doctor[r]
    parts.append(_lines(r, it, qty, trace_n=np.where(traced, qty, 0), external=ext_doc >= 0, doctor=ext_doc))

    cols = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    # a refill's extra drugs never repeat the refilled drug (the same item twice is a duplicate-charge signal)
    keep = ~((cols["item"] == refill_drug[cols["row"]]) & (np.arange(len(cols["row"])) >= refill_lines))
    cols = {key: value[keep] for key, value in cols.items()}
    order = np.argsort(cols["row"], kind="stable")
    frame = pl.DataFrame({key: value[order] for key, value in cols.items()})
    return frame.with_columns(
        pl.col("row") + row_offset,
        price=pl.Series(PRICES[frame["item"].to_numpy()]),
        trace=pl.lit(None, pl.String),
        rx=pl.lit(None, pl.String),
    ).select(list(ITEM_SPEC_SCHEMA))
