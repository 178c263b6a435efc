"""The named detectors. Each takes plain Polars frames and returns leads (see ``leads.py``).

``DETECTORS`` maps each detector's name (also its signal name in scores and
its weight key in ``settings.detect.weights``) to a function
``(claims, items, thresholds) -> leads``; items may be a lazy scan (see ``lazy.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import polars as pl

from ringsight.algorithms.detectors import (
    admissions,
    contacts,
    goods,
    lending,
    prescriptions,
    shared_attributes,
    swiping,
    trace_codes,
    travel,
)
from ringsight.algorithms.engine import PORTED, Source
from ringsight.algorithms.lazy import Items
from ringsight.algorithms.leads import concat_leads
from ringsight.config import DetectThresholds

#: Detectors that read the claim items: given a Source without items, they run on the Polars frames.
READS_ITEMS = frozenset({"identical_baskets", "stay_overlap", "doctor_pharmacy", "drug_shopping", "trace_code_resale"})

Detector = Callable[[pl.DataFrame, Items, DetectThresholds], pl.DataFrame]

DETECTORS: dict[str, Detector] = {
    "shared_card": lambda c, i, t: shared_attributes.shared_card(c, t),
    "shared_phone": lambda c, i, t: shared_attributes.shared_phone(c, t),
    "shared_address": lambda c, i, t: shared_attributes.shared_address(c, t),
    "contact_stays": lambda c, i, t: contacts.contact_stays(c, t),
    "burst_swiping": lambda c, i, t: swiping.burst_swiping(c, t),
    "identical_baskets": swiping.identical_baskets,
    "goods_as_drugs": goods.goods_as_drugs,
    "co_admission": lambda c, i, t: admissions.co_admission(c, t),
    "repeated_admission": lambda c, i, t: admissions.repeated_admission(c, t),
    "split_charges": lambda c, i, t: admissions.split_charges(c, t, i),
    "stay_overlap": admissions.stay_overlap,
    "shared_bed": lambda c, i, t: admissions.shared_bed(c, t),
    "doctor_pharmacy": prescriptions.doctor_pharmacy,
    "drug_shopping": prescriptions.drug_shopping,
    "impossible_travel": lambda c, i, t: travel.impossible_travel(c, t),
    "card_lending": lambda c, i, t: lending.card_lending(c, t),
    "trace_code_resale": trace_codes.trace_code_resale,
}


def run_detectors(
    claims: pl.DataFrame,
    items: Items,
    thresholds: DetectThresholds,
    names: list[str] | None = None,
    *,
    source: Source | None = None,
) -> tuple[pl.DataFrame, dict[str, float]]:
    """Run the named detectors (all by default); return all leads with ids and each one's seconds.

    With ``source`` (the same window on another engine, e.g. Spark), the ported detectors
    (:data:`~ringsight.algorithms.engine.PORTED`) scan it there; the others run on ``claims``.
    """
    frames, timings = [], {}
    for name in names or list(DETECTORS):
        t0 = time.perf_counter()
        where = source if _on_source(source, name) else claims
        frames.append(DETECTORS[name](where, items, thresholds))  # type: ignore[arg-type]
        timings[name] = round(time.perf_counter() - t0, 3)
    return concat_leads(frames), timings


def engines_used(source: Source | None, names: list[str] | None = None) -> dict[str, str]:
    """Per detector, the engine its scan ran on (``polars`` or the source's engine)."""
    return {n: (source.engine if _on_source(source, n) else "polars") for n in names or list(DETECTORS)}  # type: ignore[union-attr]


def _on_source(source: Source | None, name: str) -> bool:
    """Whether ``name`` scans ``source``: ported, and the source holds the items if it reads them."""
    return source is not None and name in PORTED and (source.items is not None or name not in READS_ITEMS)
