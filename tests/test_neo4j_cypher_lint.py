"""The Neo4j-only statements (store set-up, clear, the CREATE load path) pass Neo4j's own Cypher front end.

No server is needed: ``@neo4j-cypher/language-support`` (the parser and
semantic checks of Neo4j's tools) reports errors and deprecation warnings.
Here warnings count too, so deprecated syntax such as ``CALL { WITH n … }``
is caught before a server prints it.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from test_cypher_portability import lint_script, neo4j_lint, run_lint  # noqa: F401 - the fixture is used by name

from ringsight.graph import neo4j_store as ns
from ringsight.graph.model import NODE_TYPES, REL_TYPES, key_of
from ringsight.loaders.create import link_statements, node_statements
from ringsight.loaders.entities import CLAIM_PROPS, LinkTable, NodeTable

LINT_ALL_JS = lint_script(max_severity=2)


def lint_all(directory: Path, queries: dict[str, str]) -> dict[str, list[str]]:
    """Errors and warnings per statement."""
    (directory / "lint_all.cjs").write_text(LINT_ALL_JS, encoding="utf-8")
    return run_lint(directory, "lint_all.cjs", queries)


def store_statements() -> dict[str, str]:
    texts = {
        "clear": ns.CLEAR,
        "known_types": ns.KNOWN_TYPES,
        "known_properties": ns.KNOWN_PROPERTIES,
        "create_type": ns.CREATE_TYPE,
        "create_property": ns.CREATE_PROPERTY,
    }
    texts |= {f"show_{i}": text for i, text in enumerate(ns.SHOW_SCHEMA)}
    texts |= {name: ddl for name, _what, ddl in ns.schema_statements()}
    for nt in NODE_TYPES:
        columns = [nt.key, *(CLAIM_PROPS if nt.label == "Claim" else ("name", "odd name`x"))]
        create, merge = node_statements(
            NodeTable(nt.label, nt.key, pl.DataFrame(schema=dict.fromkeys(columns, pl.String)))
        )
        texts |= {f"create:{nt.label}": create, f"merge:{nt.label}": merge}
    for rel in REL_TYPES:
        start = rel.start if isinstance(rel.start, str) else rel.start[0]
        end = rel.end if isinstance(rel.end, str) else rel.end[0]
        table = LinkTable(rel.type, start, key_of(start), end, key_of(end), pl.DataFrame())
        create, merge = link_statements(table)
        texts |= {f"create:{rel.type}": create, f"merge:{rel.type}": merge}
    return texts


def test_store_and_load_statements_are_clean_neo4j_5_cypher(neo4j_lint: Path) -> None:  # noqa: F811
    found = lint_all(neo4j_lint, store_statements())
    assert {name: msgs for name, msgs in found.items() if msgs} == {}


def test_the_lint_catches_the_deprecated_call_subquery(neo4j_lint: Path) -> None:  # noqa: F811
    """The way around: the form clear() used before is reported as deprecated."""
    found = lint_all(neo4j_lint, {"old": "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"})
    assert any("deprecated" in m for m in found["old"])
