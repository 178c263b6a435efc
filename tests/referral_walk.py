"""Walking a case from a cluster to a police referral package, for the tests that follow loaded data to paper.

The loader tests end at the referral because that is where a value read from a
foreign or minimal file must come out whole; the walk itself is tested in
tests/test_cases_workflow.py and tests/test_cases_referral.py.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from conftest import require_tool
from test_cases_data import make_users

from ringsight.cases import workflow
from ringsight.cases.referral import build_referral
from ringsight.graph.store import GraphStore


def referred_claims_csv(store: GraphStore, cluster_id: str, title: str, out_dir: Path) -> str:
    """Open a case on the cluster, move it to 处理 with a police referral, build the package; its claims.csv text."""
    require_tool("pdftotext", "poppler-utils")
    users = make_users(store)
    inv, sup = users["inv"], users["sup"]
    case = workflow.create_case(store, inv, title, clusters=[cluster_id])
    case = workflow.move_case(store, inv, case.case_id, "复审", case.version)
    case = workflow.move_case(store, inv, case.case_id, "调查核实", case.version)
    case = workflow.move_case(
        store, sup, case.case_id, "处理", case.version, outcome=["referred_police"], basis="条例第四十条"
    )
    pkg = build_referral(store, case.case_id, out_dir, inv)
    with zipfile.ZipFile(pkg.zip) as zf:
        return zf.read("claims.csv").decode("utf-8-sig")
