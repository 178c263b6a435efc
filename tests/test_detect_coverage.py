"""Detection says what it could and could not look at: coverage per detector in the report and the CLI summary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from ringsight.algorithms.coverage import NEEDS, detector_coverage
from ringsight.algorithms.detectors import DETECTORS
from ringsight.algorithms.frames import claims_frame, items_frame
from ringsight.config import Settings, get_settings
from ringsight.graph.store import GraphStore


def test_every_detector_declares_what_it_needs() -> None:
    assert set(NEEDS) == set(DETECTORS)


def test_inpatient_only_frames_name_the_idle_detectors() -> None:
    claims = claims_frame(
        [
            {
                "claim_id": f"c{i}",
                "pid": f"p{i}",
                "card_id": f"k{i}",
                "facility_code": "H51010400001",
                "admit_ts": 1_750_000_000,
                "discharge_ts": 1_750_300_000,
                "claim_ts": 1_750_300_000,
                "diagnosis_code": "I10",
            }
            for i in range(5)
        ]
    )
    cov = {c["detector"]: c for c in detector_coverage(claims, items_frame([]))}
    assert cov["trace_code_resale"]["status"] == "no input" and cov["trace_code_resale"]["missing"] == ["trace codes"]
    assert cov["drug_shopping"]["missing"] == ["items", "pharmacy claims"]
    assert cov["shared_phone"]["status"] == "no input"
    assert cov["doctor_pharmacy"]["status"] == "no input"
    assert cov["shared_card"]["status"] == "ok"
    assert cov["stay_overlap"]["status"] == "partial" and cov["stay_overlap"]["without"] == ["items"]
    assert cov["split_charges"]["status"] == "partial"  # doctors absent, diagnoses present


def _minimal_csv(path: Path) -> None:
    """Only the required columns: inpatient stays of 30 persons at two hospitals (no phones, items, pharmacies)."""
    from ringsight.synth.ids import resident_ids

    n = 30
    ids = resident_ids(np.full(n, 510104), np.full(n, 19500101) + np.arange(n), np.arange(n) + 10).to_list()
    rows = []
    for i in range(n):
        rows.append(
            {
                "claim_id": f"S{i:04d}",
                "visit_type": "inpatient",
                "claim_time": f"2025-06-{(i % 20) + 6:02d} 10:00",
                "admit_time": f"2025-06-{(i % 20) + 1:02d} 09:00",
                "discharge_time": f"2025-06-{(i % 20) + 6:02d} 09:00",
                "patient_id": ids[i],
                "card_id": f"CARD{i:04d}",
                "facility_id": f"H51010400{i % 2:03d}",
                "total_amount": "5200.00",
            }
        )
    pl.DataFrame(rows).write_csv(path)


def test_cli_detect_says_which_detectors_had_nothing_to_work_on(
    store: GraphStore, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ringsight.cli import app
    from ringsight.loaders import load_files

    path = tmp_path / "minimal.csv"
    _minimal_csv(path)
    load_files([path], [], settings=settings, store=store)
    monkeypatch.setenv("RINGSIGHT_GRAPH_NAME", settings.graph_name)
    monkeypatch.setenv("RINGSIGHT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["detect", "--since", "2025-05-01"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "detectors had nothing to work on" in out
    assert "trace_code_resale (no trace codes)" in out and "drug_shopping (no items, no pharmacy claims)" in out
    report = sorted((Path(settings.data_dir) / "reports").glob("*/report.json"))[-1]
    data = json.loads(report.read_text(encoding="utf-8"))
    cov = {c["detector"]: c for c in data["run"]["coverage"]}
    assert cov["shared_phone"]["status"] == "no input" and cov["shared_card"]["status"] == "ok"
    assert "what could not be checked" in report.with_suffix(".html").read_text(encoding="utf-8")


def test_every_threshold_is_documented_with_its_default() -> None:
    from ringsight.config import DetectThresholds

    doc = (Path(__file__).parent.parent / "docs" / "detection.md").read_text(encoding="utf-8")
    for name, field in DetectThresholds.model_fields.items():
        assert f"| `{name}` | {field.default} | {field.description} |" in doc, name
    for name in DETECTORS:
        assert f"`{name}`" in doc, name


def test_detection_without_items_gives_every_lead_a_sentence() -> None:
    """A file with no items (no quantities) and unplaceable codes still yields readable evidence."""
    from ringsight.algorithms.detectors import run_detectors
    from ringsight.algorithms.sample import build
    from ringsight.config import DetectThresholds

    world = build(seed=3)
    leads, _ = run_detectors(world.claims, items_frame([]), DetectThresholds())
    assert leads.height > 0
    assert leads["evidence_en"].null_count() == 0 and leads["evidence_zh"].null_count() == 0
