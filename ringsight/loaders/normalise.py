"""Normalisation: the forms values are compared and keyed in, as vectorised Polars expressions.

Exports of the same person or place differ in width (ＡＢＣ vs ABC), spacing,
prefixes (+86, 北京市) and spelling of building numbers (2号楼 / 2栋 / 2楼). The
graph keys entities on normalised values, so these variants must meet:

- phones: digits only, +86 / 0086 removed, mobile ``1[3-9]xxxxxxxxx`` or
  landline with its area code ``0xx[x]xxxxxxx[x]``;
- addresses: a matching key = district + street part, with the province and
  city prefix dropped, building/unit/room spelt one way
  (``朝阳区XX路1号院2栋3单元401``), and a display text kept as written;
- names: trimmed, full-width folded, middle dots unified;
- IDs: upper-case, no spaces;
- times: epoch seconds, local time Asia/Shanghai unless an offset is given;
- facility kind and region from the 12-character national code (H/P + 6-digit
  region + 5-digit sequence).

Everything works on whole columns; Python runs only on the few distinct values
that contain full-width characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import polars as pl

from ringsight.gazetteer import address_counties
from ringsight.identity import PSEUDONYM_PREFIX

TZ = "Asia/Shanghai"
NULL_TOKENS = ("null", "NULL", "Null", "None", "none", "nan", "NaN", "N/A", "n/a", "NA", "-", "--", "/", "无", "空")
_FULL_WIDTH = r"[\x{3000}\x{FF01}-\x{FF5E}]"

# --- generic cleaning --------------------------------------------------------


def fold_width(series: pl.Series) -> pl.Series:
    """Full-width characters to half-width (NFKC), computed once per distinct affected value."""
    if series.dtype != pl.String:
        return series
    mask = series.str.contains(_FULL_WIDTH).fill_null(False)
    if not mask.any():
        return series
    distinct = series.filter(mask).unique().to_list()
    mapping = {v: unicodedata.normalize("NFKC", v) for v in distinct}
    return series.replace(mapping)


def clean_frame(frame: pl.DataFrame, skip: tuple[str, ...] = ()) -> pl.DataFrame:
    """Fold width, trim, and turn placeholder values (空, -, NULL…) into nulls, for every string column.

    One regex scan per column finds whether any value needs folding or
    trimming; columns that do not (the usual case) skip that work.
    """
    cols = [c for c, t in frame.schema.items() if t == pl.String and c not in skip]
    needs = frame.select([pl.col(c).str.contains(_FULL_WIDTH + r"|^\s|\s$").any().alias(c) for c in cols]).row(
        0, named=True
    )
    dirty = [c for c in cols if needs[c]]
    if dirty:
        frame = frame.with_columns([fold_width(frame[c]).str.strip_chars() for c in dirty])
    exprs = [
        pl.when(pl.col(c).is_in(NULL_TOKENS) | (pl.col(c) == "")).then(None).otherwise(pl.col(c)).alias(c) for c in cols
    ]
    return frame.with_columns(exprs)


def fast_then_slow(
    series: pl.Series, fast: Callable[[pl.Expr], pl.Expr], slow: Callable[[pl.Expr], pl.Expr]
) -> pl.Series:
    """``fast`` on every value, ``slow`` only on the values ``fast`` left null.

    Exports mostly use one spelling; the general, regex-heavy parsers then run
    on the few rows that need them instead of on millions.
    """
    frame = series.to_frame("v")
    out = frame.select(fast(pl.col("v")).alias(series.name)).to_series()
    need = out.is_null() & series.is_not_null()
    if need.any():
        idx = need.arg_true()
        rest = series.gather(idx).to_frame("v").select(slow(pl.col("v")).cast(out.dtype)).to_series()
        out = out.scatter(idx, rest)
    return out


def by_distinct(series: pl.Series, fn: Callable[[pl.Expr], list[pl.Expr]]) -> pl.DataFrame:
    """Evaluate ``fn`` once per distinct value and return its columns aligned with ``series``."""
    distinct = series.unique().to_frame("v")
    computed = distinct.with_columns(fn(pl.col("v")))
    joined = series.to_frame("v").join(computed, on="v", how="left", nulls_equal=True, maintain_order="left")
    return joined.drop("v")


# --- identifiers ------------------------------------------------------------


def norm_id(expr: pl.Expr) -> pl.Expr:
    """IDs and codes: no spaces, upper-case (so a trailing x of a resident ID becomes X)."""
    return expr.str.replace_all(r"\s+", "").str.to_uppercase()


def id_series(series: pl.Series) -> pl.Series:
    """:func:`norm_id` applied only to the values that hold spaces or lower-case letters."""
    mask = series.str.contains(r"[\sa-z]").fill_null(False)
    if not mask.any():
        return series
    idx = mask.arg_true()
    fixed = series.gather(idx).to_frame("v").select(norm_id(pl.col("v"))).to_series()
    return series.scatter(idx, fixed)


def norm_name(expr: pl.Expr) -> pl.Expr:
    """Names: inner spaces removed for Chinese names, middle dots unified (维吾尔族 names: 阿不都·热合曼)."""
    e = expr.str.replace_all(r"[•・‧∙]", "·").str.replace_all(r"\s*·\s*", "·")
    has_latin = e.str.contains(r"[A-Za-z]")
    return pl.when(has_latin).then(e.str.replace_all(r"\s+", " ")).otherwise(e.str.replace_all(r"\s+", ""))


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id_ok(expr: pl.Expr) -> pl.Expr:
    """True when an 18-character resident ID has a valid shape, birth date and check character."""
    shape = expr.str.contains(r"^\d{17}[\dX]$")
    total = pl.sum_horizontal([expr.str.slice(i, 1).cast(pl.Int32, strict=False) * w for i, w in enumerate(_WEIGHTS)])
    expected = pl.lit("10X98765432").str.slice(total % 11, 1)
    birth = expr.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    return (shape & birth.is_not_null() & (expr.str.slice(17, 1) == expected)).fill_null(False)


def resident_id_birth(expr: pl.Expr) -> pl.Expr:
    """Birth date from characters 7–14 of a resident ID."""
    return expr.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)


def resident_id_gender(expr: pl.Expr) -> pl.Expr:
    """M for an odd 17th digit, F for an even one."""
    digit = expr.str.slice(16, 1).cast(pl.Int32, strict=False)
    return pl.when(digit % 2 == 1).then(pl.lit("M")).when(digit.is_not_null()).then(pl.lit("F"))


# --- phones -----------------------------------------------------------------


def norm_phone(expr: pl.Expr) -> pl.Expr:
    """An 11-digit mobile or an area-code landline (digits only); null when it is neither.

    ``+86 138-1234-5678``, ``0086 13812345678`` and ``8613812345678`` become
    ``13812345678``; ``(010) 6512-3456`` and ``+86 10 65123456`` become ``01065123456``.
    A landline extension after ``转`` / ``ext`` / ``#`` is dropped.
    """
    e = expr.str.replace(r"(?i)(转|ext\.?|#|x)\s*\d+$", "")
    digits_plus = e.str.replace_all(r"[^\d+]", "")
    intl = digits_plus.str.contains(r"^(\+86|0086)") | digits_plus.str.contains(r"^86(1[3-9]\d{9})$")
    d = digits_plus.str.replace(r"^(\+86|0086|86)", "").str.replace_all(r"\+", "")
    d = pl.when(intl).then(d).otherwise(digits_plus.str.replace_all(r"\+", ""))
    mobile = d.str.contains(r"^1[3-9]\d{9}$")
    landline = d.str.contains(r"^0[1-9]\d{8,10}$")
    intl_landline = intl & d.str.contains(r"^(10|2\d|[3-9]\d{2})\d{7,8}$") & ~mobile
    return (
        pl.when(mobile | landline)
        .then(d)
        .when(intl_landline)
        .then(pl.lit("0") + d)
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def phone_series(series: pl.Series) -> pl.Series:
    """:func:`norm_phone` with a fast path for values that already are 11-digit mobiles."""
    return fast_then_slow(series, lambda e: pl.when(e.str.contains(r"^1[3-9]\d{9}$")).then(e), norm_phone)


def amount_series(series: pl.Series) -> pl.Series:
    """:func:`parse_amount` with a fast path for plain decimals."""

    def fast(e: pl.Expr) -> pl.Expr:
        value = e.cast(pl.Float64, strict=False)
        return pl.when(value.is_finite()).then(value)

    return fast_then_slow(series, fast, parse_amount)


# --- addresses ----------------------------------------------------------------

_CN_DIGITS = {
    "一": "1",
    "二": "2",
    "两": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
_SUFFIXES = ("单元", "号楼", "栋", "幢", "座", "楼", "层", "号院", "门")
_CN_PATTERNS = [n + s for s in _SUFFIXES for n in (*_CN_DIGITS, "十")]
_CN_REPLACE = [(_CN_DIGITS.get(n, "10")) + s for s in _SUFFIXES for n in (*_CN_DIGITS, "十")]
_PROVINCE = (
    r"^(?:[^省市区县路街道号]{2,7}?省|[^区市县路街道号]{2,10}?自治区|[^区市县]{2,4}特别行政区"
    r"|北京市?|上海市?|天津市?|重庆市?)"
)
_CITY = r"^(?:[^省市区县路街道号院]{2,8}?(?:市|自治州|地区|盟))"
_DISTRICT = r"^([^省市区县路街道号院]{1,8}?(?:区|县|旗|市))"


def address_display(expr: pl.Expr) -> pl.Expr:
    """The address as shown: trimmed, inner runs of spaces collapsed."""
    return expr.str.replace_all(r"\s+", " ").str.strip_chars()


def address_key(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """The (matching key, district) of an address.

    The key drops the province and city, keeps the district and street part,
    and spells building / unit / room one way, so that
    ``北京市朝阳区XX路1号院2号楼3单元401`` and ``朝阳区XX路1号院2楼3单元401室`` both
    become ``朝阳区XX路1号院2栋3单元401``.
    """
    s = expr.str.to_uppercase().str.replace_all(r"[\s,，、。.·()（）\[\]【】]", "")
    s = s.str.replace_many(_CN_PATTERNS, _CN_REPLACE)
    s = s.str.replace(_PROVINCE, "").str.replace(_CITY, "")
    district = s.str.extract(_DISTRICT, 1)
    s = s.str.replace_all(r"(\d+)(?:号楼|栋|幢|座)", "${1}栋")
    s = s.str.replace_all(r"(\d+)楼(\d+)(单元|门)", "${1}栋${2}单元")
    s = s.str.replace_all(r"(\d+)门", "${1}单元")
    s = s.str.replace_all(r"(\d+)-(\d+)-(\d+)(?:室|号房|房|户)?$", "${1}栋${2}单元${3}")
    s = s.str.replace(r"(\d+)(?:室|号房|房|户|号)$", "${1}")
    return s, district


# --- times -----------------------------------------------------------------------

_NAIVE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y%m%d%H%M%S", "%Y%m%d%H%M")
_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d")


def _time_text(expr: pl.Expr) -> pl.Expr:
    """One spelling: '/' and '.' dates to '-', 'T' to a space, fractions of seconds dropped."""
    e = expr.str.strip_chars().str.replace(r"^(\d{4})[/.年](\d{1,2})[/.月](\d{1,2})日?", "${1}-${2}-${3}")
    e = e.str.replace(r"^(\d{4})-(\d)-", "${1}-0${2}-").str.replace(r"^(\d{4}-\d{2})-(\d)(\D|$)", "${1}-0${2}${3}")
    e = e.str.replace(r"^(\d{4}-\d{2}-\d{2})[T ]+", "${1} ")
    e = e.str.replace(r" (\d):", " 0${1}:")
    return e.str.replace(r"(\d{2}:\d{2}:\d{2})\.\d+", "${1}")


def parse_epoch(expr: pl.Expr) -> pl.Expr:
    """Epoch seconds of a date-time text: local Asia/Shanghai unless it carries Z or ±hh:mm."""
    e = _time_text(expr)
    offset = e.str.extract(r"(Z|[+-]\d{2}:?\d{2})$", 1)
    body = e.str.replace(r"\s*(Z|[+-]\d{2}:?\d{2})$", "")
    naive = pl.coalesce(
        *[body.str.to_datetime(f, strict=False, time_unit="us") for f in _NAIVE_FORMATS],
        *[body.str.to_date(f, strict=False).cast(pl.Datetime("us")) for f in _DATE_FORMATS],
    )
    local = naive.dt.replace_time_zone(TZ, ambiguous="earliest", non_existent="null").dt.epoch("s")
    sign = pl.when(offset.str.starts_with("-")).then(-1).otherwise(1)
    digits = offset.str.replace_all(r"[^\d]", "")
    off_s = sign * (digits.str.slice(0, 2).cast(pl.Int64) * 3600 + digits.str.slice(2, 2).cast(pl.Int64) * 60)
    utc = naive.dt.epoch("s") - pl.when(offset == "Z").then(0).otherwise(off_s)
    return pl.when(offset.is_null()).then(local).otherwise(utc).cast(pl.Int64)


def epoch_series(series: pl.Series) -> pl.Series:
    """:func:`parse_epoch` with a fast path for ``YYYY-MM-DD HH:MM:SS`` (Asia/Shanghai)."""

    def fast(e: pl.Expr) -> pl.Expr:
        naive = e.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us")
        return naive.dt.replace_time_zone(TZ, ambiguous="earliest", non_existent="null").dt.epoch("s")

    return fast_then_slow(series, fast, parse_epoch)


def date_series(series: pl.Series) -> pl.Series:
    """:func:`parse_date` with a fast path for ``YYYY-MM-DD``."""
    return fast_then_slow(series, lambda e: e.str.to_date("%Y-%m-%d", strict=False), parse_date)


def parse_date(expr: pl.Expr) -> pl.Expr:
    """A calendar date from the spellings accepted for date-times (time part ignored)."""
    e = _time_text(expr).str.slice(0, 10)
    return pl.coalesce(*[e.str.to_date(f, strict=False) for f in _DATE_FORMATS])


def iso_local(ts: pl.Expr) -> pl.Expr:
    """Epoch seconds → ISO 8601 text in China Standard Time, for display.

    China has kept UTC+08:00 without daylight saving since 1991, so the text
    is computed with a fixed offset (several times faster than a time-zone
    conversion over millions of claims).
    """
    return pl.from_epoch(ts + 8 * 3600, time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%S") + pl.lit("+08:00")


# --- amounts ------------------------------------------------------------------


def parse_amount(expr: pl.Expr) -> pl.Expr:
    """A decimal from text like '¥1,234.50' or '1234.5元'; null when not a finite number."""
    e = expr.str.replace_all(r"[¥￥,，\s元]", "").str.replace(r"^RMB", "")
    value = e.cast(pl.Float64, strict=False)
    return pl.when(value.is_finite()).then(value)


# --- facilities ----------------------------------------------------------------

_CLINIC_WORDS = r"诊所|卫生室|卫生站|门诊部|医务室|卫生服务站|卫生所"


def facility_kind_from_code(code: pl.Expr, name: pl.Expr) -> pl.Expr:
    """pharmacy for a P code; clinic for an H code whose name says 诊所/卫生室/门诊部…; else hospital."""
    national = code.str.contains(r"^[HP]\d{11}$")
    clinic = name.str.contains(_CLINIC_WORDS).fill_null(False)
    return (
        pl.when(national & code.str.starts_with("P"))
        .then(pl.lit("pharmacy"))
        .when(national & clinic)
        .then(pl.lit("clinic"))
        .when(national)
        .then(pl.lit("hospital"))
        .when(name.str.contains("药店|药房|大药房").fill_null(False))
        .then(pl.lit("pharmacy"))
        .when(clinic)
        .then(pl.lit("clinic"))
    )


def facility_region(code: pl.Expr) -> pl.Expr:
    """The 6-digit administrative region code inside a national facility code."""
    return pl.when(code.str.contains(r"^[HP]\d{11}$")).then(code.str.slice(1, 6))


# --- trace codes ----------------------------------------------------------------


def split_trace_codes(expr: pl.Expr) -> pl.Expr:
    """'a;b, c' → ['a', 'b', 'c'] (separators ; , ； ， | and spaces), empty list when null."""
    parts = expr.str.replace_all(r"[;,；，|\s]+", ";").str.strip_chars(";").str.split(";")
    parts = parts.list.eval(pl.element().filter(pl.element() != ""))
    return parts.fill_null(pl.lit([], dtype=pl.List(pl.String)))


# --- the shared tables ------------------------------------------------------------


def claims_table(
    frame: pl.DataFrame, *, id_hash_key: str, load_id: str, cache: PseudonymCache | None = None
) -> pl.DataFrame:
    """The accepted rows of a parsed claims chunk, normalised and still in clear (:data:`CLEAR_CLAIMS_SCHEMA`).

    :func:`pseudonymise` turns it into the staged table and the vault's rows.
    """
    from ringsight.tables import CLEAR_CLAIMS_SCHEMA

    col = pl.col
    inpatient = col("p_visit_type") == "inpatient"
    addresses = by_distinct(frame["patient_address"], lambda v: list(_address_parts(v)))
    frame = frame.with_columns(addresses["_key"], addresses["_district"], addresses["_display"])
    # the home's county is read from the clear text here, before the address becomes a pseudonym
    frame = frame.with_columns(address_counties(frame["patient_address"], frame["p_facility_id"]).alias("_county"))
    resident = col("p_is_resident")
    out = frame.select(
        col("claim_id"),
        col("p_visit_type").alias("visit_type"),
        col("p_claim_ts").alias("claim_ts"),
        pl.when(inpatient).then(col("p_admit_ts")).alias("admit_ts"),
        pl.when(inpatient).then(col("p_discharge_ts")).alias("discharge_ts"),
        col("p_patient_id").alias("patient_id"),
        col("p_id_type").alias("patient_id_type"),
        col("person_no"),
        norm_name(col("patient_name")).alias("patient_name"),
        pl.coalesce(col("p_patient_gender"), pl.when(resident).then(resident_id_gender(col("p_patient_id")))).alias(
            "patient_gender"
        ),
        pl.coalesce(col("p_birth"), pl.when(resident).then(resident_id_birth(col("p_patient_id")))).alias(
            "patient_birth_date"
        ),
        col("p_insurance_type").alias("insurance_type"),
        col("p_card_id").alias("card_id"),
        col("p_card_kind").alias("card_kind"),
        col("p_patient_phone").alias("patient_phone"),
        col("p_contact_phone").alias("contact_phone"),
        col("_key").alias("address_key"),
        col("_display").alias("address_text"),
        col("_district").alias("district"),
        col("_county").alias("patient_county"),
        col("p_facility_id").alias("facility_code"),
        col("facility_name").str.replace_all(r"\s+", ""),
        pl.coalesce(col("p_facility_kind"), facility_kind_from_code(col("p_facility_id"), col("facility_name"))).alias(
            "facility_kind"
        ),
        col("facility_level"),
        col("p_facility_ownership").alias("facility_ownership"),
        col("p_doctor_id").alias("doctor_code"),
        norm_name(col("doctor_name")).alias("doctor_name"),
        col("department"),
        col("bed_no"),
        norm_id(col("diagnosis_code")).alias("diagnosis_code"),
        col("diagnosis_name"),
        *[col(f"p_{c}").round(2).alias(c) for c in ("total_amount", "fund_paid", "account_paid", "self_paid")],
        col("terminal_id"),
        col("operator_id"),
        pl.lit(load_id).alias("load_id"),
    )
    out = out.with_columns(_pids(out["patient_id"], id_hash_key, cache).alias("pid"))
    return out.select([pl.col(c).cast(t) for c, t in CLEAR_CLAIMS_SCHEMA.items()])


def _address_parts(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    key, district = address_key(expr)
    return key.alias("_key"), district.alias("_district"), address_display(expr).alias("_display")


def _pids(ids: pl.Series, key: str, cache: PseudonymCache | None = None) -> pl.Series:
    """Keyed hashes of the resident IDs (``Patient.pid``)."""
    return keyed_hashes(ids, key, PSEUDONYM_PREFIX["patient"], cache)


class PseudonymCache:
    """The pseudonyms a load has already computed, per key and prefix, as compact (value, hash) tables.

    A patient's ID, card and phones come back in chunk after chunk (a patient
    makes several claims), so a 1M-claim load would otherwise hash about
    three times as many values as it has persons. A table stops growing past
    ``limit`` rows (the later values are hashed per chunk), which keeps a
    very large load's memory bounded.
    """

    def __init__(self, limit: int = 2_000_000) -> None:
        self.limit = limit
        self._tables: dict[tuple[str, str], pl.DataFrame] = {}

    def known(self, key: str, prefix: str) -> pl.DataFrame | None:
        """The (v, h) table of values hashed so far under this key and prefix."""
        return self._tables.get((key, prefix))

    def keep(self, key: str, prefix: str, table: pl.DataFrame) -> None:
        """Remember a (v, h) table unless it has grown past the limit."""
        if table.height <= self.limit:
            self._tables[(key, prefix)] = table


def keyed_hashes(values: pl.Series, key: str, prefix: str = "", cache: PseudonymCache | None = None) -> pl.Series:
    """HMAC-SHA256 pseudonyms of ``prefix + value`` (equal to ``identity.keyed_hash``), once per distinct value.

    The inner pad (with the prefix) and the outer pad are hashed once and
    copied per value (RFC 2104), and the distinct values' hashes are joined
    back — several times faster than ``hmac.new`` per row, which matters for
    millions of persons, cards, phones and addresses. With a ``cache``, values
    hashed in an earlier chunk of the load are looked up instead.
    """
    distinct = values.drop_nulls().unique().cast(pl.String).rename("v")
    known = cache.known(key, prefix) if cache is not None else None
    if known is not None:
        distinct = distinct.to_frame().join(known, on="v", how="anti").get_column("v")
    table = pl.DataFrame({"v": distinct, "h": pl.Series(_hmac_hex(distinct.to_list(), key, prefix), dtype=pl.String)})
    if known is not None:
        table = pl.concat([known, table])
    if cache is not None:
        cache.keep(key, prefix, table)
    joined = values.cast(pl.String).rename("v").to_frame().join(table, on="v", how="left", maintain_order="left")
    return joined.get_column("h").rename(values.name)


def _hmac_hex(values: list[str], key: str, prefix: str) -> list[str]:
    """The first 32 hex characters of HMAC-SHA256(key, prefix + value) for each value."""
    import hashlib

    secret = key.encode()
    if len(secret) > 64:
        secret = hashlib.sha256(secret).digest()
    secret = secret.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in secret))
    inner.update(prefix.encode())
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in secret))
    inner_copy, outer_copy = inner.copy, outer.copy

    def digest(value: str) -> str:
        i = inner_copy()
        i.update(value.encode())
        o = outer_copy()
        o.update(i.digest())
        return o.hexdigest()[:32]

    return list(map(digest, values))


IDENTITY_SCHEMA: dict[str, type[pl.DataType]] = {"kind": pl.String, "pseudonym": pl.String, "value": pl.String}
"""Rows for the identity vault: the clear value behind each pseudonym (kind patient | card | phone | address)."""

_PATIENT_FIELDS = {
    "resident_id": "patient_id",
    "id_type": "patient_id_type",
    "person_no": "person_no",
    "name": "patient_name",
    "birth_date": "patient_birth_date",
}


def pseudonymise(
    table: pl.DataFrame, key: str, cache: PseudonymCache | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a claims chunk (clear, as :func:`claims_table` makes it) into the staged table and its identities.

    The staged table (``CLAIMS_SCHEMA``) keys patients, cards, phones and
    addresses by keyed hashes and keeps only what analysis needs in clear
    (gender, birth cohort, district, insurance type). The identities
    (``IDENTITY_SCHEMA``) hold each pseudonym's clear value once — the first
    non-null one in file order — for the vault; a patient's value is a JSON
    object of its fields (:data:`_PATIENT_FIELDS`).
    """
    from ringsight.tables import CLAIMS_SCHEMA

    cards = keyed_hashes(table["card_id"], key, PSEUDONYM_PREFIX["card"], cache)
    phones = keyed_hashes(
        pl.concat([table["patient_phone"], table["contact_phone"]]), key, PSEUDONYM_PREFIX["phone"], cache
    )
    addresses = keyed_hashes(table["address_key"], key, PSEUDONYM_PREFIX["address"], cache)
    surnames = keyed_hashes(table["patient_name"].str.slice(0, 1), key, "surname:", cache)
    n = table.height
    clear = table.with_columns(
        cards.alias("_card"),
        phones.slice(0, n).alias("_phone"),
        phones.slice(n, n).alias("_contact"),
        addresses.alias("_address"),
    )
    staged = clear.with_columns(
        pl.col("_card").alias("card_id"),
        pl.col("_phone").alias("patient_phone"),
        pl.col("_contact").alias("contact_phone"),
        pl.col("_address").alias("address_key"),
        birth_cohort(pl.col("patient_birth_date")).alias("birth_cohort"),
        surnames.alias("surname_group"),
    ).select([pl.col(c).cast(t) for c, t in CLAIMS_SCHEMA.items()])
    return staged, _identities(clear)


def birth_cohort(birth: pl.Expr) -> pl.Expr:
    """Five-year birth cohort (``1955-1959``): the age band analysis needs, without the identifying date."""
    start = (birth.dt.year() // 5) * 5
    return pl.format("{}-{}", start, start + 4)


def _identities(clear: pl.DataFrame) -> pl.DataFrame:
    fields = [pl.col(src).alias(dst) for dst, src in _PATIENT_FIELDS.items()]
    patients = (
        clear.select(pl.col("pid").alias("pseudonym"), *fields)
        .drop_nulls("pseudonym")
        .with_columns(pl.col("birth_date").dt.strftime("%Y-%m-%d"))
        .group_by("pseudonym", maintain_order=True)
        .agg([pl.col(f).drop_nulls().first() for f in _PATIENT_FIELDS])
        .select(
            pl.lit("patient").alias("kind"),
            "pseudonym",
            pl.struct(list(_PATIENT_FIELDS)).struct.json_encode().alias("value"),
        )
    )

    def pairs(kind: str, pseud: str, value: str) -> pl.DataFrame:
        return clear.select(pl.lit(kind).alias("kind"), pl.col(pseud).alias("pseudonym"), pl.col(value).alias("value"))

    address_text = pl.coalesce("address_text", "address_key")
    others = pl.concat(
        [
            pairs("card", "_card", "card_id"),
            pairs("phone", "_phone", "patient_phone"),
            pairs("phone", "_contact", "contact_phone"),
            clear.select(
                pl.lit("address").alias("kind"), pl.col("_address").alias("pseudonym"), address_text.alias("value")
            ),
        ]
    )
    others = others.drop_nulls().unique(["kind", "pseudonym"], keep="first", maintain_order=True)
    return pl.concat([patients, others]).select([pl.col(c).cast(t) for c, t in IDENTITY_SCHEMA.items()])


_HASHED = (
    "claim_id",
    "visit_type",
    "claim_ts",
    "admit_ts",
    "discharge_ts",
    "pid",
    "patient_id_type",
    "patient_gender",
    "birth_cohort",
    "insurance_type",
    "card_id",
    "card_kind",
    "patient_phone",
    "contact_phone",
    "address_key",
    "facility_code",
    "facility_name",
    "facility_kind",
    "facility_level",
    "facility_ownership",
    "doctor_code",
    "doctor_name",
    "department",
    "bed_no",
    "diagnosis_code",
    "diagnosis_name",
    "total_amount",
    "fund_paid",
    "account_paid",
    "self_paid",
    "terminal_id",
    "operator_id",
)


HASH_VERSION = f"polars-{pl.__version__}-v3"  # v2: staged index in hash buckets; v3: digests of pseudonymised claims


def content_hashes(claims: pl.DataFrame) -> pl.Series:
    """A digest of each claim's normalised content (not of its load or its pid key).

    A claim_id that comes back with the same digest is a no-op; with another
    digest it is a conflict. Polars' row hash is fast (vectorised) but only
    stable within one Polars version, so the staged digests carry
    :data:`HASH_VERSION` and are recomputed from the staged claims when it
    changes (see ``pipeline``).
    """
    digest = claims.select(pl.struct([pl.col(c) for c in _HASHED]).hash(seed=20240301)).to_series()
    return _hex(digest)


def _hex(digest: pl.Series) -> pl.Series:
    return digest.cast(pl.String).str.zfill(20).alias("content_hash")


def items_table(frame: pl.DataFrame, *, load_id: str) -> pl.DataFrame:
    """The accepted rows of a parsed items chunk in ITEMS_SCHEMA, with line_no still to be set."""
    from ringsight.tables import ITEMS_SCHEMA

    col = pl.col
    out = frame.select(
        col("claim_id"),
        pl.lit(0, dtype=pl.Int32).alias("line_no"),
        col("p_item_code").alias("item_code"),
        col("item_name"),
        col("p_item_category").alias("item_category"),
        col("p_quantity").alias("quantity"),
        col("p_unit_price").round(4).alias("unit_price"),
        col("p_amount").round(2).alias("amount"),
        col("p_item_doctor_id").alias("item_doctor_code"),
        col("prescription_id"),
        (col("p_external_prescription") == "true").alias("external_prescription"),
        split_trace_codes(col("trace_codes")).alias("trace_codes"),
        pl.lit(load_id).alias("load_id"),
    )
    return out.select([pl.col(c).cast(t) for c, t in ITEMS_SCHEMA.items()])
