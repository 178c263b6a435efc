"""RingSight algorithms: detectors, projections, community detection, scoring and the weekly run.

Public entry point: :func:`run_detection` (store in, run summary out). The
pure part, :func:`detect_frames`, works on Polars frames without a database.
Names are imported lazily so that the CLI starts without loading Polars and igraph.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DetectionError", "RunSummary", "detect_frames", "run_detection"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ringsight.algorithms import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'ringsight.algorithms' has no attribute {name!r}")
