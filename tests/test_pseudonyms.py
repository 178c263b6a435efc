"""Pseudonyms: the default id_hash_key is refused outside the demo; evidence references render per role."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from ringsight.algorithms.evidence import entity_ref
from ringsight.cases.identities import render_text, search_pseudonyms, text_refs
from ringsight.config import DEMO_ID_HASH_KEY, Settings
from ringsight.errors import ConfigError
from ringsight.identity import keyed_hash, pseudonym, short_pseudonym
from ringsight.loaders.normalise import keyed_hashes, pseudonymise

FIX = Path(__file__).parent / "fixtures" / "load"


def test_default_key_is_refused_outside_the_demo(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, id_hash_key=DEMO_ID_HASH_KEY)
    with pytest.raises(ConfigError, match="id_hash_key") as refused:
        settings.pseudonym_key()
    assert "RINGSIGHT_ID_HASH_KEY" in str(refused.value)
    assert Settings(data_dir=tmp_path, id_hash_key=DEMO_ID_HASH_KEY, demo=True).pseudonym_key() == DEMO_ID_HASH_KEY
    with pytest.raises(ConfigError, match="16"):
        Settings(data_dir=tmp_path, id_hash_key="short").pseudonym_key()
    assert Settings(data_dir=tmp_path, id_hash_key="x" * 16).pseudonym_key() == "x" * 16


def test_load_with_the_default_key_fails_before_writing(tmp_path: Path) -> None:
    """Through the real CLI: a clear error naming the setting, exit code 2, nothing staged."""
    env = {
        "RINGSIGHT_DATA_DIR": str(tmp_path),
        "RINGSIGHT_ID_HASH_KEY": DEMO_ID_HASH_KEY,
        "PATH": "/usr/bin:/bin",
        "COLUMNS": "200",
    }
    cmd = [str(Path(sys.executable).parent / "ringsight"), "load", str(FIX / "claims_utf8.csv")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "id_hash_key" in done.stdout + done.stderr
    assert not list(tmp_path.glob("staging/*/claims/*.parquet"))
    demo = subprocess.run(
        cmd, env={**env, "RINGSIGHT_DEMO": "1", "RINGSIGHT_GRAPH_NAME": "demo_key"}, capture_output=True, text=True
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr


def test_vectorised_hashes_equal_the_reference_hmac() -> None:
    values = pl.Series(["110105199001011234", "13812345678", None, "朝阳区XX路1号", "13812345678"])
    got = keyed_hashes(values, "k" * 20, "phone:").to_list()
    assert got[2] is None and got[1] == got[4]
    assert got[1] == pseudonym("phone", "13812345678", "k" * 20) == keyed_hash("phone:13812345678", "k" * 20)
    assert got[3] == keyed_hash("phone:朝阳区XX路1号", "k" * 20)
    long_key = "長" * 40  # longer than the HMAC block once encoded
    assert keyed_hashes(pl.Series(["a"]), long_key).item() == keyed_hash("a", long_key)
    # the kinds are separated: the same digits as a card and as a phone get different pseudonyms
    assert pseudonym("card", "13812345678", "k" * 20) != pseudonym("phone", "13812345678", "k" * 20)


def test_cached_hashes_across_chunks_equal_the_reference_hmac() -> None:
    from ringsight.loaders.normalise import PseudonymCache

    cache = PseudonymCache(limit=3)
    first = pl.Series(["13800000001", None, "13800000002"])
    second = pl.Series(["13800000002", "13800000003", "13800000001", None])  # repeats and a new value
    for chunk in (first, second, pl.Series(["13800000004", "13800000005"])):  # the last overflows the limit
        got = keyed_hashes(chunk, "k" * 20, "phone:", cache).to_list()
        assert got == [None if v is None else keyed_hash("phone:" + v, "k" * 20) for v in chunk.to_list()]
    assert cache.known("k" * 20, "phone:").height == 3  # stopped growing at the limit
    assert cache.known("other key" * 3, "phone:") is None  # another key never meets these hashes
    other = keyed_hashes(pl.Series(["13800000001"]), "other key" * 3, "phone:", cache).item()
    assert other == keyed_hash("phone:13800000001", "other key" * 3)
    assert keyed_hashes(pl.Series(["13800000001"]), "k" * 20, "card:", cache).item() == keyed_hash(
        "card:13800000001", "k" * 20
    )


def test_pseudonymise_keeps_only_analysis_fields_and_first_values() -> None:
    from ringsight.tables import CLEAR_CLAIMS_SCHEMA

    rows = [
        {"claim_id": "A", "pid": "p1", "patient_id": "ID1", "patient_name": "张三", "card_id": "C1",
         "patient_phone": "13800000001", "contact_phone": None, "address_key": "朝阳区XX路1号",
         "address_text": "北京市朝阳区XX路1号", "district": "朝阳区", "person_no": None},
        {"claim_id": "B", "pid": "p1", "patient_id": "ID1", "patient_name": "张三丰", "card_id": "C1",
         "patient_phone": "13800000002", "contact_phone": "13800000001", "address_key": None,
         "address_text": None, "district": None, "person_no": "PSN1"},
    ]  # fmt: skip
    frame = pl.DataFrame(rows).with_columns(pl.lit("1957-05-01").str.to_date().alias("patient_birth_date"))
    clear = frame.select([pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
                          for c, t in CLEAR_CLAIMS_SCHEMA.items()])  # fmt: skip
    staged, ids = pseudonymise(clear, "k" * 20)
    text = repr(staged.to_dicts())
    for value in ("ID1", "张三", "C1", "13800000001", "13800000002", "北京市", "PSN1", "1957-05-01"):
        assert value not in text, value
    assert staged["birth_cohort"].to_list() == ["1955-1959", "1955-1959"]
    assert staged["contact_phone"][1] == staged["patient_phone"][0]  # same number, same pseudonym
    by = {(k, p): v for k, p, v in ids.iter_rows()}
    assert len(ids.filter(pl.col("kind") == "phone")) == 2
    patient = by[("patient", "p1")]
    assert '"name":"张三"' in patient and '"person_no":"PSN1"' in patient  # first non-null of each field
    assert by[("address", pseudonym("address", "朝阳区XX路1号", "k" * 20))] == "北京市朝阳区XX路1号"


def test_evidence_references_render_as_short_pseudonyms_unless_revealed() -> None:
    card = "0f" * 16
    frame = pl.DataFrame({"card_id": [card], "n": [3]})
    text = frame.select(pl.format("医保卡 {} 被 {} 人使用", entity_ref("card", "card_id"), pl.col("n"))).item()
    assert text == f"医保卡 {{card:{card}}} 被 3 人使用"
    assert text_refs(text) == [("card", card)]
    assert render_text(text) == f"医保卡 {short_pseudonym('card', card)} 被 3 人使用"
    assert render_text(text, {("card", card): "6217000011112222"}) == "医保卡 6217000011112222 被 3 人使用"
    with pytest.raises(ValueError):
        entity_ref("doctor", "code")


def test_search_hashes_the_typed_value_like_the_loader(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, id_hash_key="s" * 20)
    got = dict(search_pseudonyms(" 11010519900101123x ", settings))
    assert got["Patient"] == pseudonym("patient", "11010519900101123X", "s" * 20)
    phones = {key for label, key in search_pseudonyms("+86 138-0000-0001", settings) if label == "Phone"}
    assert phones == {pseudonym("phone", "13800000001", "s" * 20)}
    assert not [label for label, _ in search_pseudonyms("康顺", settings) if label == "Phone"]


def test_vault_keeps_the_first_value_and_rewriting_is_a_no_op(appdb_settings: Settings) -> None:
    """On SQLite and on a real PostgreSQL: insert-if-absent, lookups by kind and patient field."""
    from ringsight.appdb import open_appdb
    from ringsight.appdb.vault import lookup, store_identities

    db = open_appdb(appdb_settings)
    rows = pl.DataFrame(
        {
            "kind": ["card", "phone", "patient", "card"],
            "pseudonym": ["c1", "t1", "p1", "c2"],
            "value": ["6217000011112222", "13800000001", '{"name": "张三", "resident_id": "X1"}', "6217999"],
        }
    )
    assert store_identities(db, rows) == 4
    later = pl.DataFrame({"kind": ["card", "address"], "pseudonym": ["c1", "a1"], "value": ["OTHER", "朝阳区某路1号"]})
    store_identities(db, later)
    store_identities(db, rows)  # a resumed or repeated load
    got = lookup(db, [("card", "c1"), ("patient.name", "p1"), ("patient.resident_id", "p1"), ("address", "a1")])
    assert got == {
        ("card", "c1"): "6217000011112222",  # the first value stays
        ("patient.name", "p1"): "张三",
        ("patient.resident_id", "p1"): "X1",
        ("address", "a1"): "朝阳区某路1号",
    }
    assert lookup(db, [("phone", "missing"), ("patient.person_no", "p1")]) == {}
