"""Files with personal data are created 0600 in 0700 directories, whatever the umask RingSight starts with.

A load (staged tables, rejects, report), the store's own files, a referral
package, an audit export and a query written to a file are stat'ed; and an
export into a folder of the user's does not change that folder's mode.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from test_cases_data import make_users
from test_cases_referral import referred_case  # noqa: F401  (fixture)
from test_load_validation import BASE, ITEM_BASE, _write

from ringsight.cases import audit
from ringsight.cases.referral import build_referral
from ringsight.config import Settings
from ringsight.cypher.output import emit
from ringsight.cypher.runner import run_adhoc
from ringsight.graph.store import GraphStore
from ringsight.loaders import load_files
from ringsight.private import private_dir
from ringsight.tables import staging_dir


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """Start from the usual 022 (files 0644), as on most systems."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _assert_private_tree(root: Path) -> int:
    assert root.is_dir() and _mode(root) == 0o700, (root, oct(_mode(root)))
    seen = 0
    for path in root.rglob("*"):
        if path.is_symlink() or path.is_socket():
            continue
        expected = 0o700 if path.is_dir() else 0o600
        assert _mode(path) == expected, (path, oct(_mode(path)))
        seen += 1
    return seen


def test_a_load_stages_private_files(loose_umask: None, store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    stage = staging_dir(settings, settings.graph_name)
    stage.mkdir(parents=True, exist_ok=True)
    old = stage / "old-layout.parquet"
    old.write_bytes(b"PAR1")
    old.chmod(0o644)  # staged by an earlier version with a looser umask
    claims = [dict(BASE), {**BASE, "claim_id": "BAD1", "total_amount": "-1.00"}]
    report = load_files(
        [_write(tmp_path / "claims.csv", claims)],
        [_write(tmp_path / "items.csv", [dict(ITEM_BASE)])],
        settings=settings,
        store=store,
        rejects_dir=tmp_path / "out" / "rejects",
    )
    assert report.loaded == 1
    assert _mode(Path(settings.data_dir)) == 0o700
    assert _assert_private_tree(stage) >= 3 and _mode(old) == 0o600
    assert _assert_private_tree(tmp_path / "out" / "rejects") == 1
    assert _mode(Path(report.report_path)) == 0o600
    # the store's snapshots and append-only files
    assert _assert_private_tree(Path(settings.data_dir) / "falkordb") >= 3


def test_a_referral_package_is_private(
    loose_umask: None,
    store: GraphStore,
    referred_case: dict,  # noqa: F811
    tmp_path: Path,
) -> None:
    tmp_path.chmod(0o755)
    pkg = build_referral(
        store, referred_case["case"].case_id, tmp_path / "cases" / "pkg", referred_case["users"]["inv"]
    )
    assert _assert_private_tree(tmp_path / "cases") == 7  # pkg/ and its six files
    assert {_mode(p) for p in (pkg.pdf, pkg.zip, pkg.members_csv, pkg.claims_csv)} == {0o600}
    assert _mode(tmp_path) == 0o755  # the user's own folder is left as it was


def test_exports_are_private(loose_umask: None, store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    users = make_users(store)
    tmp_path.chmod(0o755)
    audit.export_entries(store, tmp_path / "audit.csv", users["sup"])
    audit.export_entries(store, tmp_path / "new" / "audit.jsonl", users["sup"])
    result = run_adhoc(store, "RETURN '张三' AS name", None, settings=settings)
    for fmt in ("csv", "json", "parquet", "table"):
        emit(result, fmt, tmp_path / f"q.{fmt}", Console(file=open(os.devnull, "w")))  # noqa: SIM115
    for name in ("audit.csv", "new/audit.jsonl", "q.csv", "q.json", "q.parquet", "q.table"):
        assert _mode(tmp_path / name) == 0o600, name
    assert _mode(tmp_path / "new") == 0o700 and _mode(tmp_path) == 0o755


def test_private_dir_tightens_only_ringsight_directories(loose_umask: None, tmp_path: Path) -> None:
    mine = tmp_path / "users-folder"
    mine.mkdir(mode=0o755)
    private_dir(mine)
    assert _mode(mine) == 0o755
    private_dir(mine, tighten=True)
    assert _mode(mine) == 0o700
    private_dir(tmp_path / "a" / "b")
    assert _mode(tmp_path / "a") == 0o700 and _mode(tmp_path / "a" / "b") == 0o700
