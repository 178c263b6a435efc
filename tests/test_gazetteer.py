"""The county of a free-text home address, against the division table (no store needed).

Addresses here are shaped unlike the generator's (which always writes 市 + 区 + street):
without a province, short names, ambiguous names, other provinces, full-width
characters, English and garbage.
"""

from __future__ import annotations

import polars as pl
import pytest

from ringsight import gazetteer


def county(text: str | None, facility: str | None = None) -> str | None:
    fac = None if facility is None else pl.Series([facility])
    return gazetteer.address_counties(pl.Series([text], dtype=pl.String), fac).item()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("北京市朝阳区建国路88号", "110105"),  # municipality + district
        ("吉林省长春市朝阳区人民大街7号", "220104"),  # the other 朝阳区, told by its province and city
        ("长春朝阳区红旗街", "220104"),  # short prefecture name
        ("北京朝阳", "110105"),  # short names only, the province decides
        ("四川成都武侯区科华北路", "510107"),  # short province and prefecture
        ("成都市武侯区朝阳路1号", "510107"),  # a street named after another county does not win
        ("武侯区朝阳路3号", "510107"),  # no province: a name only one county has
        ("辽宁朝阳双塔区", "211302"),  # 朝阳 is the prefecture here, not 朝阳县
        ("广西南宁市青秀区民族大道", "450103"),  # autonomous region written short
        ("内蒙古呼和浩特市新城区", "150102"),
        ("湖北省仙桃市钱沟路", "429004"),  # county-level city directly under the province
        ("成都市都江堰市幸福镇", "510181"),  # county-level city under a prefecture
        ("广东省东莞市东城街道", "441900"),  # a prefecture without counties is its own county-level division
        ("山西省阳泉市城区桃北路", "140302"),  # a two-character name with its context
        ("上海市 黄浦区, 南京东路 100 号", "310101"),  # spaces and commas
        ("ＳＨ上海市黄浦区南京东路１００号", "310101"),  # full-width letters and digits
        ("上海市黄浦区（南京东路）", "310101"),
    ],
)
def test_address_county(text: str, code: str) -> None:
    assert county(text) == code


@pytest.mark.parametrize(
    "text",
    [
        "Room 401, 1 Chaoyang Rd, Chaoyang District, Beijing",  # English: no division named in the text
        "！！？？ＸＸ",
        "12345",
        "某某小区3栋2单元",  # a street part alone
        "成都市高新区天府大道",  # a development zone is no county-level division
        "北京市长安街1号",  # 长安 is a county elsewhere, not in Beijing
        "四川省朝阳区",  # contradicted by the province written before it
        "朝阳区XX路",  # two 朝阳区 and nothing to choose by
        "城区",  # a two-character name alone
        "",
        None,
    ],
)
def test_address_without_a_county(text: str | None) -> None:
    assert county(text) is None


def test_ambiguous_name_resolved_by_the_facility_prefecture() -> None:
    assert county("朝阳区XX路", "H22010200001") == "220104"  # a 长春 clinic
    assert county("朝阳区XX路", "H11010100001") == "110105"  # a Beijing clinic
    assert county("朝阳区XX路", "H51010400001") is None  # a 成都 clinic: neither
    assert county("朝阳区XX路", "CLINIC-7") is None  # not a national code
    assert county("朝阳路5号", "H11010100001") == "110105"  # a short name needs the facility to agree
    # what the text says is not overridden by the facility
    assert county("吉林省长春市朝阳区", "H11010100001") == "220104"


def test_aligned_with_its_input_and_once_per_distinct_value() -> None:
    texts = ["北京市朝阳区", None, "朝阳区", "北京市朝阳区", "朝阳区"]
    facs = ["H51010400001", "H11010100001", "H22010200001", None, "H11010100001"]
    out = gazetteer.address_counties(pl.Series("patient_address", texts), pl.Series(facs))
    assert out.name == "patient_address"
    assert out.to_list() == ["110105", None, "220104", "110105", "110105"]


def test_names_table_has_short_forms_and_levels() -> None:
    names = gazetteer.names()
    row = names.filter(pl.col("pattern") == "广西")
    assert row.select("code", "level", "full").rows() == [("450000", "province", False)]
    assert names.filter(pl.col("pattern") == "市辖区").is_empty()
    assert names.filter(pl.col("pattern").str.len_chars() < 2).is_empty()
