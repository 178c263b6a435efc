"""The query library's files, the parameter types and the seeded sample — no database needed."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ringsight.config import Settings
from ringsight.cypher import LibraryError, ParameterError, QueryLibrary
from ringsight.cypher.library import SampleSpec, package_dir, parse_text, referenced_params
from ringsight.cypher.params import ParamSpec, parse_adhoc, parse_assignments, parse_params, parse_value
from ringsight.cypher.runner import sample_rows
from ringsight.graph.store import QueryResult

TYPOLOGIES = {
    "card_collecting",
    "goods_as_drugs",
    "impersonation",
    "reselling",
    "ghost_patients",
    "induced_admission",
    "bed_holding",
    "split_charges",
    "doctor_pharmacy",
    "trace_code_resale",
    "repeated_admission",
    "recurrence",
}
OTHER_TAGS = {"exploration", "planning", "annotation"}

GOOD = """\
// name: my_cards
// title_zh: 我的查询
// title_en: My query
// description: cards
// tags: [impersonation]
// mode: read
// params:
//   n: {type: int, default: 2, example: 3, description: "at least, this many"}
MATCH (k:Card) WITH k LIMIT $n RETURN k.card_id AS card
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.cypher"
    path.write_text(text, encoding="utf-8")
    return path


# --- the shipped library ---------------------------------------------------------------


def test_package_queries_load_with_titles_tags_and_declared_parameters() -> None:
    library = QueryLibrary.load(Settings(queries_dir=None))
    assert len(library) >= 19
    for query in library:
        assert query.title_zh and query.title_en and query.description, query.name
        assert any("\u4e00" <= ch <= "\u9fff" for ch in query.title_zh), query.name
        assert set(query.tags) <= TYPOLOGIES | OTHER_TAGS, query.name
        assert query.path is not None and query.path.stem == query.name
        runner_params = {query.sample.fraction, query.sample.seed} if query.sample else set()
        assert referenced_params(query.text) | runner_params >= {p.name for p in query.params}
        for spec in query.params:  # every example parses to its declared type
            if spec.example is not None:
                parse_value(spec, spec.example, query.name)
    write_queries = [q.name for q in library if q.is_write]
    assert write_queries == ["tag_facility"]
    covered = {t for q in library for t in q.tags}
    assert covered >= TYPOLOGIES - {"split_charges", "repeated_admission", "recurrence"}


def test_package_dir_holds_only_query_files() -> None:
    files = list(package_dir().iterdir())
    assert files and all(f.suffix == ".cypher" for f in files)


# --- user directories --------------------------------------------------------------------


def test_user_directory_adds_queries(tmp_path: Path) -> None:
    write(tmp_path, "my_cards", GOOD)
    library = QueryLibrary.load(Settings(queries_dir=tmp_path))
    query = library.get("my_cards")
    assert query.source == str(tmp_path)
    assert query.params[0] == ParamSpec("n", "int", 2, 3, "at least, this many", required=False)
    assert "cards_shared_by_persons" in library


def test_user_query_with_a_package_name_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "cards_shared_by_persons", GOOD.replace("my_cards", "cards_shared_by_persons"))
    with pytest.raises(LibraryError, match="Two queries are named 'cards_shared_by_persons'") as info:
        QueryLibrary.load(Settings(queries_dir=tmp_path))
    assert str(package_dir()) in info.value.message and str(tmp_path) in info.value.message
    assert "RINGSIGHT_QUERIES_DIR" in (info.value.hint or "")


def test_clash_inside_the_user_directory_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a", GOOD)
    write(tmp_path, "b", GOOD)
    with pytest.raises(LibraryError, match="Two queries are named 'my_cards'"):
        QueryLibrary.load(Settings(queries_dir=tmp_path))


def test_queries_dir_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "my_cards", GOOD)
    monkeypatch.setenv("RINGSIGHT_QUERIES_DIR", str(tmp_path))
    assert "my_cards" in QueryLibrary.load(Settings())
    monkeypatch.setenv("RINGSIGHT_QUERIES_DIR", str(tmp_path / "missing"))
    with pytest.raises(LibraryError, match="does not exist"):
        QueryLibrary.load(Settings())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("LIMIT $n", "LIMIT $m"), "undeclared parameters: m"),
        (lambda t: t.replace("LIMIT $n", "LIMIT 3"), "never uses: n"),
        (lambda t: t.replace("type: int", "type: integer"), "unknown type 'integer'"),
        (lambda t: t.replace("//   n:", "//   user:").replace("$n", "$user"), "reserved name"),
        (lambda t: t.replace("// mode: read", "// mode: delete"), "mode 'delete'"),
        (lambda t: t.replace("// title_zh: 我的查询\n", ""), "no title_zh"),
        (lambda t: t.replace("// tags:", "// tagz:"), "unknown keys: tagz"),
        (lambda t: t.replace("name: my_cards", "name: My-Cards"), "not valid"),
        (lambda t: t.replace("description: cards", "description: [unclosed"), "not valid YAML"),
        (lambda t: t.split("MATCH")[0], "no Cypher text"),
    ],
)
def test_malformed_files_are_refused_with_a_reason(change, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LibraryError, match=message):
        parse_text(change(GOOD))


def test_unknown_name_suggests_close_ones() -> None:
    library = QueryLibrary.load(Settings(queries_dir=None))
    with pytest.raises(LibraryError, match="no query named 'cards'") as info:
        library.get("cards")
    assert "cards_shared_by_persons" in (info.value.hint or "")


def test_parameter_references_ignore_strings_and_comments() -> None:
    text = "MATCH (n) WHERE n.x = '$not' // $comment\nRETURN n.y = $real /* $block */"
    assert referenced_params(text) == {"real"}


# --- parameter types ---------------------------------------------------------------------


def spec(ptype: str, **kw) -> ParamSpec:  # type: ignore[no-untyped-def]
    return ParamSpec("p", ptype, **kw)


def test_dates_and_datetimes_become_epoch_seconds_in_beijing_time() -> None:
    midnight = int(datetime(2023, 12, 31, 16, 0, tzinfo=UTC).timestamp())
    for raw in ("2024-01-01", "2024/01/01", "20240101", date(2024, 1, 1)):
        assert parse_value(spec("date"), raw) == midnight
    assert parse_value(spec("datetime"), "2024-01-01T08:30") == midnight + 8 * 3600 + 1800
    assert parse_value(spec("datetime"), "2024-01-01 08:30:00+00:00") == midnight + 16 * 3600 + 1800
    assert parse_value(spec("datetime"), "20240101083000") == midnight + 8 * 3600 + 1800
    assert parse_value(spec("date"), 1_700_000_000) == 1_700_000_000


def test_scalars_lists_and_bounds() -> None:
    assert parse_value(spec("int"), "5,000") == 5000
    assert parse_value(spec("float"), "0.25") == 0.25
    assert parse_value(spec("bool"), "是") is True and parse_value(spec("bool"), "no") is False
    assert parse_value(spec("string"), 13800138000) == "13800138000"
    assert parse_value(spec("list"), "a, b；c") == ["a", "b", "c"]
    assert parse_value(spec("list[int]"), "[1, 2]") == [1, 2]
    assert parse_value(spec("list[date]"), ["2024-01-01"]) == [parse_value(spec("date"), "2024-01-01")]
    assert parse_value(spec("int", required=False), "") is None


@pytest.mark.parametrize(
    ("ptype", "raw", "kw", "message"),
    [
        ("int", "abc", {}, "must be a whole number"),
        ("int", "2.5", {}, "must be a whole number"),
        ("int", True, {}, "must be a whole number"),
        ("float", "lots", {}, "must be a number"),
        ("bool", "maybe", {}, "must be true or false"),
        ("date", "2024-13-01", {}, "must be a date"),
        ("datetime", "yesterday", {}, "must be a date-time"),
        ("list[int]", "1,x", {}, "must be a list"),
        ("string", "x", {"choices": ("a", "b")}, "must be one of a, b"),
        ("float", "0.05", {"min": 0.1}, "must be at least 0.1"),
        ("int", "9", {"max": 3}, "must be at most 3"),
        ("int", None, {"required": True}, "is required"),
    ],
)
def test_type_errors_name_the_parameter(ptype: str, raw: object, kw: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message) as info:
        parse_value(ParamSpec("min_persons", ptype, **kw), raw, "cards_shared_by_persons")
    assert "Parameter 'min_persons' of query 'cards_shared_by_persons'" in info.value.message
    assert "--param min_persons=" in (info.value.hint or "")


def test_parse_params_fills_defaults_and_refuses_unknown_names() -> None:
    specs = [ParamSpec("n", "int", 2), ParamSpec("since", "date", None), ParamSpec("code", "string", required=True)]
    assert parse_params(specs, {"code": "X"}) == {"n": 2, "since": None, "code": "X"}
    with pytest.raises(ParameterError, match="Parameter 'code' is required"):
        parse_params(specs, {"n": "3"})
    with pytest.raises(ParameterError, match="has no parameter 'nn'; its parameters are: n, since, code"):
        parse_params(specs, {"nn": "3", "code": "X"}, "q")


def test_command_line_assignments_and_adhoc_types() -> None:
    assert parse_assignments(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ParameterError, match="name=value"):
        parse_assignments(["novalue"])
    values = parse_adhoc(["phone=01062345678", "n:int=5", "d:date=2024-01-01", "xs:list=a,b", 'j:json=[1, {"k": 2}]'])
    assert values == {
        "phone": "01062345678",  # text stays text: a phone number is not a number
        "n": 5,
        "d": parse_value(spec("date"), "2024-01-01"),
        "xs": ["a", "b"],
        "j": [1, {"k": 2}],
    }
    with pytest.raises(ParameterError, match="Parameter 'n' must be a whole number"):
        parse_adhoc(["n:int=five"])
    with pytest.raises(ParameterError, match="unknown type 'number'"):
        parse_adhoc(["n:number=5"])


# --- the seeded sample -------------------------------------------------------------------


def test_sample_rows_is_a_keyed_hash_draw_per_stratum() -> None:
    population = QueryResult(
        ["facility", "stratum"], [[f"F{i:03d}", "pharmacy" if i % 3 else "hospital"] for i in range(95)]
    )
    sample_spec = SampleSpec("facility", "stratum", "fraction", "seed")
    drawn = sample_rows(population, sample_spec, fraction=0.1, seed="s1")
    assert drawn.columns[-4:] == ["stratum_size", "sample_size", "draw_rank", "draw_hash"]
    by_stratum: dict[str, list[list[object]]] = {}
    for row in drawn.rows:
        by_stratum.setdefault(str(row[1]), []).append(row)
    assert {k: len(v) for k, v in by_stratum.items()} == {"hospital": 4, "pharmacy": 7}  # ceil(32/10), ceil(63/10)
    for stratum, rows in by_stratum.items():
        members = [r[0] for r in population.rows if r[1] == stratum]
        expected = sorted(members, key=lambda c: hashlib.sha256(f"s1:{c}".encode()).hexdigest())[: len(rows)]
        assert [r[0] for r in rows] == expected
    assert sample_rows(population, sample_spec, fraction=0.1, seed="s1").rows == drawn.rows
    assert sample_rows(population, sample_spec, fraction=0.1, seed="s2").rows != drawn.rows
    # a fraction of exactly 30% of 10 is 3, not 4 (no floating-point creep)
    ten = QueryResult(["facility", "stratum"], [[f"F{i}", "x"] for i in range(10)])
    assert len(sample_rows(ten, sample_spec, fraction=0.3, seed="s").rows) == 3
