"""Every library query is valid Neo4j 5 Cypher, checked by Neo4j's own front end.

The planted-answer tests run the queries on FalkorDB (and on Neo4j when a test
URI is configured). Without a Neo4j server, this test still proves the Neo4j
side of portability: Neo4j's ``@neo4j-cypher/language-support`` package (the
parser and semantic analysis of the Neo4j Cypher front end, compiled to
JavaScript) lints each query as ``CYPHER 5`` — syntax, undefined variables,
implicit grouping keys, wrong clause order. It needs Node.js; the package is
installed once into a cache directory from the npm registry, and the test is
skipped when that is impossible (no node, offline). Linting takes about a
minute the first time; texts found clean are remembered (by hash) after that.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ringsight.config import Settings
from ringsight.cypher import QueryLibrary

PACKAGE = "@neo4j-cypher/language-support@2.0.0-next.38"


def lint_script(max_severity: int) -> str:
    """A Node script linting each query on stdin as ``CYPHER 5``; it prints the messages per query name.

    ``max_severity`` is the least grave diagnostic kept (1 errors only, 2 warnings too): the
    library must be valid, while our own statements must not even be deprecated.
    """
    return """
const ls = require('@neo4j-cypher/language-support');
let input = '';
process.stdin.on('data', d => input += d);
process.stdin.on('end', () => {
  const out = {};
  for (const q of JSON.parse(input)) {
    const r = ls.lintCypherQuery('CYPHER 5 ' + q.text, {});
    out[q.name] = r.diagnostics.filter(ls.isNotParamError).filter(d => d.severity <= MAX).map(d => d.message);
  }
  process.stdout.write(JSON.stringify(out));
});
""".replace("MAX", str(max_severity))


def run_lint(directory: Path, script: str, queries: dict[str, str]) -> dict[str, list[str]]:
    """Run the lint script ``script`` (a file in ``directory``) on the queries; messages per query name."""
    todo = [{"name": k, "text": v} for k, v in queries.items()]
    proc = subprocess.run(
        ["node", script], cwd=directory, input=json.dumps(todo), capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


LINT_JS = lint_script(max_severity=1)


@pytest.fixture(scope="module")
def neo4j_lint() -> Path:
    """A directory with Neo4j's Cypher language support installed and a lint script."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("Node.js (node, npm) not found: cannot run Neo4j's Cypher front end")
    directory = Path(os.environ.get("RINGSIGHT_CYPHER_LINT_DIR", Path.home() / ".cache" / "ringsight" / "cypher-lint"))
    directory.mkdir(parents=True, exist_ok=True)
    if not (directory / "node_modules" / "@neo4j-cypher" / "language-support").is_dir():
        proc = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(directory), PACKAGE],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.returncode != 0:
            pytest.skip(f"cannot install {PACKAGE} from the npm registry: {proc.stderr.strip()[-300:]}")
    (directory / "lint.cjs").write_text(LINT_JS, encoding="utf-8")
    return directory


def lint(directory: Path, queries: dict[str, str]) -> dict[str, list[str]]:
    """Neo4j's error messages per query; texts that linted clean before are not linted again.

    Linting is slow (seconds per query: the front end is compiled Java), so
    clean results are remembered by the SHA-256 of the package version and
    the query text — a changed query is always linted afresh.
    """
    cache_file = directory / "clean.json"
    clean = set(json.loads(cache_file.read_text())) if cache_file.exists() else set()
    digest = {name: hashlib.sha256(f"{PACKAGE}\n{text}".encode()).hexdigest() for name, text in queries.items()}
    todo = {k: v for k, v in queries.items() if digest[k] not in clean}
    found: dict[str, list[str]] = {k: [] for k in queries}
    if todo:
        found.update(run_lint(directory, "lint.cjs", todo))
    clean |= {digest[k] for k, msgs in found.items() if not msgs}
    cache_file.write_text(json.dumps(sorted(clean)))
    return found


def test_the_linter_catches_non_portable_cypher(neo4j_lint: Path) -> None:
    found = lint(
        neo4j_lint,
        {
            "grouping": "MATCH (f:Facility)<-[:AT_FACILITY]-(c:Claim) RETURN f.code, sum(c.fund_paid) / f.region",
            "undefined": "MATCH (n) WITH n RETURN m",
            "fine": "MATCH (n:Card) WHERE n.card_id = $x RETURN n LIMIT $limit",
        },
    )
    assert found["grouping"] and found["undefined"] and found["fine"] == []


@pytest.mark.slow
def test_every_library_query_is_valid_neo4j_5_cypher(neo4j_lint: Path) -> None:
    library = QueryLibrary.load(Settings(queries_dir=None))
    texts = {q.name: q.bounded_text(6) for q in library}  # a deepening query runs with its bound written in
    errors = {name: msgs for name, msgs in lint(neo4j_lint, texts).items() if msgs}
    assert errors == {}
