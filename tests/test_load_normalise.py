"""Normalisation and header matching: the forms entities are keyed by."""

from __future__ import annotations

import polars as pl
import pytest

from ringsight.loaders import normalise as nz
from ringsight.loaders.profiles import canonical_profile, map_headers, normalise_header
from ringsight.loaders.readers import detect_encoding


def _one(expr: pl.Expr, value: str | None) -> object:
    return pl.DataFrame({"v": [value]}, schema={"v": pl.String}).select(expr.alias("out")).item()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+86 138-1234-5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("(010) 6512-3456", "01065123456"),
        ("+86 10 65123456", "01065123456"),
        ("0755-12345678转123", "075512345678"),
        ("12345", None),
        ("23812345678", None),
    ],
)
def test_phones(raw: str, expected: str | None) -> None:
    assert _one(nz.norm_phone(pl.col("v")), raw) == expected


def test_address_variants_meet() -> None:
    frame = pl.DataFrame(
        {
            "a": [
                "北京市朝阳区XX路1号院2号楼3单元401",
                "朝阳区XX路1号院2楼3单元401室",
                "北京朝阳区 XX路1号院 2栋 3单元 401",
                "北京市朝阳区xx路1号院二号楼三单元401",
                "北京市朝阳区XX路1号院2号楼3单元402",
            ]
        }
    )
    key, district = nz.address_key(pl.col("a"))
    out = frame.select(key.alias("k"), district.alias("d"))
    keys = out["k"].to_list()
    assert keys[0] == keys[1] == keys[2] == keys[3] == "朝阳区XX路1号院2栋3单元401"
    assert keys[4] != keys[0]
    assert set(out["d"].to_list()) == {"朝阳区"}


def test_address_full_width_folded_before_key() -> None:
    folded = nz.fold_width(pl.Series(["朝阳区ＸＸ路１号院２号楼３单元４０１"]))
    assert _one(nz.address_key(pl.col("v"))[0], folded[0]) == "朝阳区XX路1号院2栋3单元401"


def test_address_with_province_and_city() -> None:
    key = _one(nz.address_key(pl.col("v"))[0], "广东省深圳市南山区科技园路8号3栋502室")
    assert key == "南山区科技园路8号3栋502"


def test_names_and_ids() -> None:
    assert _one(nz.norm_name(pl.col("v")), "张 三") == "张三"
    assert _one(nz.norm_name(pl.col("v")), "阿不都 • 热合曼") == "阿不都·热合曼"
    assert _one(nz.norm_id(pl.col("v")), " 11010519491231002x ") == "11010519491231002X"
    cleaned = nz.clean_frame(pl.DataFrame({"v": ["　张三　", "无", "-", "ＡＢＣ１２３"]}))
    assert cleaned["v"].to_list() == ["张三", None, None, "ABC123"]


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-01 08:30:00",
        "2024-03-01 08:30",
        "2024/3/1 8:30",
        "20240301083000",
        "2024-03-01T08:30:00",
        "2024-03-01T08:30:00+08:00",
        "2024-03-01T00:30:00Z",
        "2024-03-01 08:30:00.250",
        "2024年3月1日 08:30",
    ],
)
def test_times_to_epoch_in_shanghai(text: str) -> None:
    assert _one(nz.parse_epoch(pl.col("v")), text) == 1709253000  # 2024-03-01 08:30 +08:00


@pytest.mark.parametrize("text", ["2024-13-01 00:00:00", "yesterday", "2024-02-30 10:00"])
def test_bad_times_are_null(text: str) -> None:
    assert _one(nz.parse_epoch(pl.col("v")), text) is None


def test_iso_display() -> None:
    assert _one(nz.iso_local(pl.col("v").cast(pl.Int64)), "1709253000") == "2024-03-01T08:30:00+08:00"


def test_facility_kind_from_code() -> None:
    frame = pl.DataFrame(
        {"code": ["P11010500002", "H11010500001", "H11010500003", "LOCAL1"], "name": ["药房", "医院", "某诊所", None]}
    )
    kinds = frame.select(nz.facility_kind_from_code(pl.col("code"), pl.col("name"))).to_series().to_list()
    assert kinds == ["pharmacy", "hospital", "clinic", None]
    regions = frame.select(nz.facility_region(pl.col("code"))).to_series().to_list()
    assert regions == ["110105", "110105", "110105", None]


def test_resident_id_check_vectorised_matches_identity() -> None:
    from ringsight.identity import resident_id_problem

    ids = ["11010519491231002X", "110105194912310021", "11010519491331002X", "1101051949123100", "A1010519491231002X"]
    ok = pl.DataFrame({"v": ids}).select(nz.resident_id_ok(pl.col("v"))).to_series().to_list()
    assert ok == [resident_id_problem(i) is None for i in ids]


def test_header_matching_ignores_case_space_width() -> None:
    assert normalise_header(" ＳＥＴＬ_ＩＤ ") == "setl_id"
    mapping = map_headers(
        [" Claim_ID", "就诊 类型", "ＳＥＴＬ＿ＴＩＭＥ", "证件号码", "mdtrt_cert_no"], canonical_profile().claims
    )
    assert mapping.mapped["claim_id"] == " Claim_ID"
    assert mapping.mapped["visit_type"] == "就诊 类型"
    assert mapping.mapped["claim_time"] == "ＳＥＴＬ＿ＴＩＭＥ"
    assert mapping.missing == ["facility_id", "total_amount"]


def test_encoding_detection() -> None:
    text = "结算ID,就诊类型\nS1,门诊\n"
    assert detect_encoding(text.encode("utf-8"), complete=True) == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbf" + text.encode("utf-8"), complete=True) == "utf-8-sig"
    assert detect_encoding(text.encode("gbk"), complete=True) == "gb18030"
    # a UTF-8 character cut by the sniff window is not mistaken for GBK
    assert detect_encoding(text.encode("utf-8")[:-5], complete=False) == "utf-8"


@pytest.mark.parametrize("key", ["ringsight-demo-key", "k", "a-key-longer-than-one-sha256-block-" * 3])
def test_person_keys_equal_identity_keyed_hash(key: str) -> None:
    from ringsight.identity import keyed_hash
    from ringsight.loaders.normalise import _pids

    ids = ["11010519491231002X", "E12345678", "11010519491231002X"]
    assert _pids(pl.Series(ids), key).to_list() == [keyed_hash(i, key) for i in ids]
