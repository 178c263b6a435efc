"""A write query cannot tag with a word outside the tag vocabulary (cases.tags), as the workbench cannot.

Before, ``tag_facility --allow-write -p tag=…`` stored any text as a tag, and
a bureau's own write query could set ``a.tag`` to anything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ringsight.cases.audit import list_entries
from ringsight.config import Settings
from ringsight.cypher import QueryLibrary, run_named
from ringsight.cypher.library import LibraryError, package_dir
from ringsight.cypher.params import ParameterError
from ringsight.graph.store import GraphStore

HEADER = "// name: {name}\n// title_zh: 标记\n// title_en: Tag\n// mode: write\n// params:\n{params}"


def test_tag_facility_refuses_a_tag_outside_the_vocabulary(store: GraphStore, settings: Settings) -> None:
    store.write("CREATE (:Facility {code: 'P1'})")
    library = QueryLibrary.load(settings)
    for tag in ("随便写的标签", "黑名单X", "<b>黑名单</b>"):
        with pytest.raises(ParameterError, match="not in the tag vocabulary") as info:
            run_named(store, library, "tag_facility", {"facility": "P1", "tag": tag}, settings=settings,
                      allow_write=True, user="ana")  # fmt: skip
        assert "黑名单" in (info.value.hint or "")
    assert store.count_nodes("Annotation") == 0 and list_entries(store, action="query.write") == []
    run_named(store, library, "tag_facility", {"facility": "P1", "tag": "黑名单"}, settings=settings,
              allow_write=True, user="ana")  # fmt: skip
    assert store.read("MATCH (a:Annotation) RETURN a.tag").scalar() == "黑名单"
    # the vocabulary is the setting: a bureau that adds a tag may use it
    own = settings.model_copy(update={"cases": settings.cases.model_copy(update={"tags": ["本局专用"]})})
    run_named(store, library, "tag_facility", {"facility": "P1", "tag": "本局专用"}, settings=own,
              allow_write=True, user="ana")  # fmt: skip
    with pytest.raises(ParameterError):
        run_named(store, library, "tag_facility", {"facility": "P1", "tag": "黑名单"}, settings=own, allow_write=True)


@pytest.mark.parametrize(
    ("params", "body"),
    [
        (
            "//   facility: {type: string}\n//   tag: {type: string}\n",
            "MATCH (f:Facility {code: $facility}) CREATE (a:Annotation {kind: 'tag', tag: $tag})-[:ABOUT]->(f)",
        ),
        (
            "//   facility: {type: string}\n",
            "MATCH (f:Facility {code: $facility}) CREATE (a:Annotation)-[:ABOUT]->(f) SET a.tag = '随便'",
        ),
        (
            "//   facility: {type: string}\n//   tag: {type: tag}\n//   note: {type: string}\n",
            "MATCH (f:Facility {code: $facility}) CREATE (a:`Annotation`)-[:ABOUT]->(f) "
            "SET a.tag = $tag, a.`tag` = $note",
        ),
        (
            "//   facility: {type: string}\n//   props: {type: string}\n",
            "MATCH (f:Facility {code: $facility}) CREATE (a:Annotation)-[:ABOUT]->(f) SET a += $props",
        ),
    ],
)
def test_a_bureau_write_query_must_take_tags_from_the_vocabulary(tmp_path: Path, params: str, body: str) -> None:
    (tmp_path / "sneaky.cypher").write_text(HEADER.format(name="sneaky", params=params) + body + "\n", "utf-8")
    with pytest.raises(LibraryError, match=r"tag|map"):
        QueryLibrary.from_dirs(package_dir(), tmp_path)


def test_a_bureau_write_query_with_a_tag_parameter_is_checked(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    params = "//   facility: {type: string}\n//   tag: {type: tag}\n"
    body = (
        "MATCH (f:Facility {code: $facility}) CREATE (a:Annotation {kind: 'tag', tag: $tag})-[:ABOUT]->(f) "
        "RETURN a.tag AS tag"
    )
    (tmp_path / "mine.cypher").write_text(HEADER.format(name="mine", params=params) + body + "\n", "utf-8")
    library = QueryLibrary.from_dirs(package_dir(), tmp_path)
    store.write("CREATE (:Facility {code: 'P2'})")
    with pytest.raises(ParameterError, match="vocabulary"):
        run_named(store, library, "mine", {"facility": "P2", "tag": "x"}, settings=settings, allow_write=True)
    result = run_named(store, library, "mine", {"facility": "P2", "tag": "已约谈"}, settings=settings, allow_write=True)
    assert result.scalar() == "已约谈"
