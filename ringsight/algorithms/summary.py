"""What one detection run did, as the pipeline hands it to the report writer, the CLI and the demo.

A module of its own so that :mod:`ringsight.algorithms.report` can read a
summary without importing the pipeline that produces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl


@dataclass
class RunSummary:
    """What a run did: its id, the clusters by change, timings and where the report is."""

    run_id: str
    status: str
    since_ts: int
    until_ts: int
    claims: int
    leads: int
    clusters: int
    changes: dict[str, int]
    timings: dict[str, float]
    report_html: Path | None = None
    report_json: Path | None = None
    source: str = ""
    #: per detector: status (ok | partial | no input), inputs missing, leads (see coverage.py)
    coverage: list[dict[str, Any]] = field(default_factory=list)
    top: list[dict[str, Any]] = field(default_factory=list)
    #: The written clusters (with ids) and members, for callers that evaluate or export a run.
    cluster_frame: pl.DataFrame | None = field(default=None, repr=False)
    member_frame: pl.DataFrame | None = field(default=None, repr=False)
    #: per detector: the engine its scan ran on (polars | spark), see docs/engines.md
    engines: dict[str, str] = field(default_factory=dict)
