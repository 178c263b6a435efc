"""Column profiles: which header of an export means which canonical column.

The canonical profile knows the English names, the Chinese aliases and the
national medical-insurance platform's interface field names from
``shared/spec/claims-format.md``, and the value vocabularies (门诊 → outpatient,
med_type 21 → inpatient, …). A user profile in TOML adds headers and values of
one province's export on top of it::

    [claims.columns]
    claim_id = "单据号"                  # canonical = header (or a list of headers)
    visit_type = ["就医方式", "就诊方式"]

    [claims.values.visit_type]          # value as exported = canonical value
    "普通门诊" = "outpatient"

    [claims]
    keep_extra = ["统筹区"]              # extra headers kept as Claim properties

    [items.columns]
    item_code = "收费项目编码"

Header matching ignores case, surrounding and inner spaces and the
full-width/half-width difference (NFKC), so ``ＳＥＴＬ_ＩＤ`` finds ``claim_id``.

A profile may also set constants, derive columns, name date formats, pick an
XLSX sheet and join other files (:mod:`ringsight.loaders.profile_schema` holds
the layout, :mod:`ringsight.loaders.shape` applies it); docs/claims-format.md
documents every key.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringsight.errors import InputError
from ringsight.loaders.profile_schema import JoinSpec, TableSpec, closest, parse_profile_text
from ringsight.loaders.safe_text import excerpt
from ringsight.loaders.similarity import best_header

# --- canonical columns: name -> aliases (spec order = priority) ---------------
CLAIM_COLUMNS: dict[str, tuple[str, ...]] = {
    "claim_id": ("结算ID", "结算流水号", "setl_id"),
    "visit_type": ("就诊类型", "医疗类别", "med_type"),
    "claim_time": ("结算时间", "setl_time"),
    "admit_time": ("入院时间", "begntime", "adm_time"),
    "discharge_time": ("出院时间", "endtime", "dscg_time"),
    "patient_id": ("证件号码", "身份证号", "公民身份号码", "certno"),
    "patient_id_type": ("证件类型", "psn_cert_type"),
    "person_no": ("人员编号", "psn_no"),
    "patient_name": ("姓名", "参保人姓名", "psn_name"),
    "patient_gender": ("性别", "gend"),
    "patient_birth_date": ("出生日期", "brdy"),
    "insurance_type": ("险种", "险种类型", "insutype"),
    "card_id": ("医保卡号", "社保卡号", "电子凭证号", "mdtrt_cert_no"),
    "card_kind": ("就诊凭证类型", "mdtrt_cert_type"),
    "patient_phone": ("联系电话", "手机号", "tel"),
    "contact_phone": ("联系人电话", "coner_tel"),
    "patient_address": ("联系地址", "居住地址", "家庭住址", "curr_addr"),
    "facility_id": ("定点医药机构编码", "机构编码", "fixmedins_code"),
    "facility_name": ("定点医药机构名称", "机构名称", "fixmedins_name"),
    "facility_kind": ("机构类型",),
    "facility_level": ("医院等级",),
    "facility_ownership": ("经营性质", "办医主体"),
    "doctor_id": ("医保医师代码", "医师编码", "处方医师", "atddr_no", "chfpdr_code"),
    "doctor_name": ("医师姓名",),
    "department": ("科室", "adm_dept_codg"),
    "bed_no": ("床位", "床号", "adm_bed"),
    "diagnosis_code": ("诊断编码", "主要诊断编码", "dise_codg", "dscg_maindiag_code"),
    "diagnosis_name": ("诊断名称",),
    "total_amount": ("医疗费用总额", "总费用", "medfee_sumamt"),
    "fund_paid": ("统筹基金支付", "基金支付", "fund_pay_sumamt"),
    "account_paid": ("个人账户支付", "acct_pay"),
    "self_paid": ("个人自付", "现金支付", "psn_cash_pay"),
    "terminal_id": ("终端编号", "POS编号"),
    "operator_id": ("经办人", "操作员"),
}
CLAIM_REQUIRED: tuple[str, ...] = (
    "claim_id",
    "visit_type",
    "claim_time",
    "patient_id",
    "card_id",
    "facility_id",
    "total_amount",
)

ITEM_COLUMNS: dict[str, tuple[str, ...]] = {
    "claim_id": ("结算ID", "结算流水号", "setl_id"),
    "item_code": ("项目编码", "医保目录编码", "med_list_codg"),
    "item_name": ("项目名称", "med_list_name"),
    "item_category": ("项目类别",),
    "quantity": ("数量", "cnt"),
    "unit_price": ("单价", "pric"),
    "amount": ("金额", "det_item_fee_sumamt"),
    "item_doctor_id": ("开单医生", "bilg_dr_codg"),
    "prescription_id": ("处方号", "rxno"),
    "external_prescription": ("外购处方标志", "rx_circ_flag"),
    "trace_codes": ("追溯码", "药品追溯码", "drug_trac_codg"),
}
ITEM_REQUIRED: tuple[str, ...] = ("claim_id", "item_code", "quantity", "unit_price", "amount")

# --- value vocabularies: canonical column -> {exported value: canonical value} ----
_VISIT = {
    "outpatient": "outpatient",
    "inpatient": "inpatient",
    "pharmacy": "pharmacy",
    "门诊": "outpatient",
    "普通门诊": "outpatient",
    "住院": "inpatient",
    "购药": "pharmacy",
    "药店购药": "pharmacy",
    "定点药店": "pharmacy",
    "定点药店购药": "pharmacy",
    **{code: "outpatient" for code in ("11", "12", "13", "14")},
    **{code: "inpatient" for code in ("21", "24", "28")},
    "41": "pharmacy",
}
_INSURANCE = {
    "employee": "employee",
    "resident": "resident",
    "maternity": "maternity",
    "职工": "employee",
    "职工医保": "employee",
    "城镇职工": "employee",
    "居民": "resident",
    "居民医保": "resident",
    "城乡居民": "resident",
    "生育": "maternity",
    "生育保险": "maternity",
    "310": "employee",
    "320": "employee",
    "330": "employee",
    "390": "resident",
    "392": "resident",
    "510": "maternity",
}
_GENDER = {"m": "M", "f": "F", "男": "M", "女": "F", "1": "M", "2": "F", "male": "M", "female": "F"}
_ID_TYPE = {
    "resident_id": "resident_id",
    "01": "resident_id",
    "1": "resident_id",
    "居民身份证": "resident_id",
    "身份证": "resident_id",
    "passport": "passport",
    "护照": "passport",
    "other": "other",
    "其他": "other",
    **{f"{code:02d}": "other" for code in range(2, 100)},
}
_CARD_KIND = {
    "e_voucher": "e_voucher",
    "resident_id": "resident_id",
    "social_security_card": "social_security_card",
    "01": "e_voucher",
    "02": "resident_id",
    "03": "social_security_card",
    "电子凭证": "e_voucher",
    "医保电子凭证": "e_voucher",
    "身份证": "resident_id",
    "居民身份证": "resident_id",
    "社会保障卡": "social_security_card",
    "社保卡": "social_security_card",
}
_FACILITY_KIND = {
    "hospital": "hospital",
    "clinic": "clinic",
    "pharmacy": "pharmacy",
    "医院": "hospital",
    "诊所": "clinic",
    "门诊部": "clinic",
    "卫生室": "clinic",
    "药店": "pharmacy",
    "药房": "pharmacy",
    "零售药店": "pharmacy",
    "定点药店": "pharmacy",
}
_OWNERSHIP = {
    "public": "public",
    "private": "private",
    "公立": "public",
    "公办": "public",
    "政府办": "public",
    "民营": "private",
    "私立": "private",
    "社会办医": "private",
    "社会办": "private",
}
_ITEM_CATEGORY = {
    "drug": "drug",
    "service": "service",
    "material": "material",
    "药品": "drug",
    "西药": "drug",
    "中成药": "drug",
    "中药饮片": "drug",
    "诊疗": "service",
    "诊疗项目": "service",
    "医疗服务": "service",
    "服务": "service",
    "耗材": "material",
    "医用耗材": "material",
    "材料": "material",
}
_FLAG = {
    "1": "true",
    "0": "false",
    "true": "true",
    "false": "false",
    "y": "true",
    "n": "false",
    "yes": "true",
    "no": "false",
    "是": "true",
    "否": "false",
}
CLAIM_VALUES: dict[str, dict[str, str]] = {
    "visit_type": _VISIT,
    "insurance_type": _INSURANCE,
    "patient_gender": _GENDER,
    "patient_id_type": _ID_TYPE,
    "card_kind": _CARD_KIND,
    "facility_kind": _FACILITY_KIND,
    "facility_ownership": _OWNERSHIP,
}
ITEM_VALUES: dict[str, dict[str, str]] = {"item_category": _ITEM_CATEGORY, "external_prescription": _FLAG}


def normalise_header(text: str) -> str:
    """The form headers are compared in: NFKC (full → half width), case-folded, no spaces."""
    return "".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


def normalise_value(text: str) -> str:
    """The form vocabulary values are compared in (same folding as headers)."""
    return normalise_header(text)


@dataclass
class TableProfile:
    """Headers, vocabularies and the profile's own additions for one table (claims or items)."""

    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    values: dict[str, dict[str, str]]
    keep_extra: tuple[str, ...] = ()
    constants: dict[str, str] = field(default_factory=dict)  # canonical -> value for every row
    derived: dict[str, Any] = field(default_factory=dict)  # canonical -> expression (profile_schema)
    formats: dict[str, tuple[str, ...]] = field(default_factory=dict)  # canonical -> date formats
    date_formats: tuple[str, ...] = ()  # for every date column without its own formats
    sheet: str | None = None  # XLSX sheet to read
    joins: list[JoinSpec] = field(default_factory=list)
    base: Path | None = None  # directory join files are relative to
    named: dict[str, tuple[str, ...]] = field(default_factory=dict)  # canonical -> the profile's own headers

    def lookup(self) -> dict[str, str]:
        """Normalised header → canonical column; the canonical name and earlier aliases win."""
        table: dict[str, str] = {}
        for canonical, aliases in self.columns.items():
            for name in (canonical, *aliases):
                table.setdefault(normalise_header(name), canonical)
        return table

    def vocabulary(self, column: str) -> dict[str, str] | None:
        """Normalised exported value → canonical value for a column with a vocabulary."""
        vocab = self.values.get(column)
        if vocab is None:
            return None
        return {normalise_value(k): v for k, v in vocab.items()}

    def formats_of(self, column: str) -> tuple[str, ...]:
        """The date formats a column is read with before the built-in spellings."""
        return self.formats.get(column) or self.date_formats

    def join_path(self, join: JoinSpec) -> Path:
        """Where a joined file is: as written when absolute, else beside the profile."""
        path = Path(join.file).expanduser()
        return path if path.is_absolute() or self.base is None else self.base / path


@dataclass
class Profile:
    """The claims and items profiles used for one load."""

    name: str
    claims: TableProfile
    items: TableProfile
    source: Path | None = None
    max_reject_share: float | None = None  # the profile's [load] max_reject_share, else settings


def canonical_profile() -> Profile:
    """The built-in profile of the spec: canonical names, Chinese aliases, national field names."""
    return Profile(
        name="canonical",
        claims=TableProfile(dict(CLAIM_COLUMNS), CLAIM_REQUIRED, {k: dict(v) for k, v in CLAIM_VALUES.items()}),
        items=TableProfile(dict(ITEM_COLUMNS), ITEM_REQUIRED, {k: dict(v) for k, v in ITEM_VALUES.items()}),
    )


SHIPPED_DIR = Path(__file__).with_name("shipped_profiles")


def shipped_profiles() -> dict[str, Path]:
    """Profiles that come with RingSight, by name (``--profile national``)."""
    return {p.stem: p for p in sorted(SHIPPED_DIR.glob("*.toml"))}


def resolve_profile(name_or_path: Path | str) -> Path:
    """A profile path, or the path of a shipped profile given by its name."""
    path = Path(name_or_path)
    if path.exists() or path.suffix:
        return path
    shipped = shipped_profiles()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    raise InputError(
        f"There is no profile file '{name_or_path}' and no shipped profile of that name.",
        f"Give a path to a TOML file, or one of the shipped profiles: {', '.join(shipped)}.",
    )


def load_profile(path: Path | str | None, joins: dict[str, Path] | None = None) -> Profile:
    """The canonical profile, extended by a user TOML profile when one is given.

    ``joins`` overrides the file of a join by its name (``--join beneficiary=PATH``).
    """
    profile = canonical_profile()
    if path is None:
        if joins:
            raise InputError("--join needs a --profile that declares the join.", "Add a [[claims.join]] table.")
        return profile
    path = resolve_profile(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"The profile {path} does not exist.", "Check the path given to --profile.") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"The profile {path} is not UTF-8 text.", "Save it as UTF-8.") from exc
    spec = parse_profile_text(text, path)
    profile.name = spec.name or path.stem
    profile.source = path
    profile.max_reject_share = spec.load.max_reject_share
    _extend(profile.claims, spec.claims, path, "claims")
    _extend(profile.items, spec.items, path, "items")
    if path.resolve().parent == SHIPPED_DIR.resolve():  # a shipped profile's files are the user's, not ours
        profile.claims.base = profile.items.base = Path.cwd()
    _override_joins(profile, path, joins or {})
    return profile


def _override_joins(profile: Profile, path: Path, joins: dict[str, Path]) -> None:
    """Point named joins at the files given on the command line."""
    declared = {j.name: j for t in (profile.claims, profile.items) for j in t.joins}
    for name, file in joins.items():
        if name not in declared:
            raise InputError(
                f"--join {name}=… names no join of the profile {path}.",
                f"The profile's joins: {', '.join(declared) or 'none'}.",
            )
        declared[name].file = str(Path(file).resolve())


def _not_canonical(path: Path, where: str, key: str, canonical: str, table: TableProfile) -> InputError:
    near = closest(canonical, table.columns)
    tip = f"Did you mean '{near}'? " if near else ""
    return InputError(
        f"The profile {path} names '{canonical}' in {where}.{key}, which is not a canonical {where} column.",
        f"{tip}The columns are: {', '.join(table.columns)} (docs/claims-format.md).",
    )


def _extend(table: TableProfile, section: TableSpec, path: Path, where: str) -> None:
    """Put a profile section's headers first (they win over the built-in aliases), merge values, add the rest."""
    for key in ("columns", "values", "constants", "derived", "formats"):
        for canonical in getattr(section, key):
            if canonical not in table.columns:
                raise _not_canonical(path, where, key, canonical, table)
    for canonical, headers in section.columns.items():
        names = (headers,) if isinstance(headers, str) else tuple(str(h) for h in headers)
        table.columns[canonical] = (*names, *table.columns[canonical])
        table.named[canonical] = names
    for canonical, mapping in section.values.items():
        table.values[canonical] = {**table.values.get(canonical, {}), **mapping}
    for canonical, value in section.constants.items():
        vocab = table.vocabulary(canonical)
        if vocab is not None and normalise_value(value) not in vocab:
            raise InputError(
                f"The profile {path} sets {where}.constants.{canonical} = '{value}', which is not a known {canonical}.",
                f"Use one of: {', '.join(sorted(set(vocab.values())))}, or map it under [{where}.values.{canonical}].",
            )
    table.constants = dict(section.constants)
    table.derived = dict(section.derived)
    table.formats = {k: tuple(v) for k, v in section.formats.items()}
    table.date_formats = tuple(section.date_formats)
    table.sheet = section.sheet
    table.joins = list(section.join)
    table.base = path.parent
    extra = section.keep_extra
    table.keep_extra = tuple(str(e) for e in ([extra] if isinstance(extra, str) else extra))


@dataclass
class HeaderMapping:
    """How one file's headers map onto a table profile."""

    mapped: dict[str, str]  # canonical -> header in the file
    missing: list[str]  # required canonical columns without a header
    absent_optional: list[str]
    ignored: list[str]  # headers mapped to nothing (listed in the report)
    kept_extra: list[str]  # headers kept as Claim properties by the profile
    duplicates: dict[str, list[str]] = field(default_factory=dict)  # canonical -> further headers not used
    constants: dict[str, str] = field(default_factory=dict)  # canonical -> value (from the profile)
    derived: dict[str, Any] = field(default_factory=dict)  # canonical -> expression (from the profile)
    headers: list[str] = field(default_factory=list)  # every header, joined files' included

    def closest(self, canonical: str, table: TableProfile) -> str | None:
        """The header that looks like a missing column (by words and aliases); None when nothing is close."""
        candidates = self.ignored + self.kept_extra
        return best_header(canonical, table.columns[canonical], candidates)[0]


def map_headers(headers: list[str], table: TableProfile) -> HeaderMapping:
    """Match a file's headers to canonical columns (case, spaces and width ignored).

    Each canonical column takes the first of its names (the profile's first,
    then the canonical name and the built-in aliases) that the file has, so
    one header may feed several columns (``BeneID`` as patient and card).
    A column the profile sets as a constant or derives takes no header.
    """
    present: dict[str, str] = {}
    for header in headers:
        present.setdefault(normalise_header(header), header)
    mapped: dict[str, str] = {}
    duplicates: dict[str, list[str]] = {}
    for canonical, aliases in table.columns.items():
        if canonical in table.constants or canonical in table.derived:
            continue
        found = []
        for name in (*table.named.get(canonical, ()), canonical, *aliases):
            header = present.get(normalise_header(name))
            if header is not None and header not in found:
                found.append(header)
        if found:
            mapped[canonical] = found[0]
            if len(found) > 1:
                duplicates[canonical] = found[1:]
    used = set(mapped.values()) | set(derived_headers(table.derived))
    keep = {normalise_header(e) for e in table.keep_extra}
    kept = [h for h in headers if normalise_header(h) in keep and h not in used]
    ignored = [h for h in headers if h not in used and normalise_header(h) not in keep]
    provided = set(mapped) | set(table.constants) | set(table.derived)
    missing = [c for c in table.required if c not in provided]
    absent = [c for c in table.columns if c not in provided and c not in table.required]
    return HeaderMapping(
        mapped, missing, absent, ignored, kept, duplicates, dict(table.constants), dict(table.derived), list(headers)
    )


def derived_headers(derived: dict[str, Any]) -> list[str]:
    """Every header a set of derived expressions reads."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, dict):
            for key, arg in node.items():
                if key == "col":
                    out.append(str(arg))
                elif key in ("concat", "coalesce"):
                    for part in arg:
                        walk(part)
                elif key in ("slice", "date", "map"):
                    walk(arg)

    for node in derived.values():
        walk(node)
    return out


def require_columns(mapping: HeaderMapping, table: TableProfile, source: Path, what: str) -> None:
    """Refuse a file that lacks a required column or a header a derived column reads, before anything is written."""
    lacking = [h for h in derived_headers(mapping.derived) if h not in mapping.headers]
    if lacking:
        raise InputError(
            f"The {what} file {source} lacks the header {excerpt(lacking[0])}, which the profile's "
            f"{what}.derived reads. Nothing was loaded.",
            f"Headers in the file: {', '.join(excerpt(h, 30) for h in mapping.headers[:20])}.",
        )
    if not mapping.missing:
        return
    parts = []
    for canonical in mapping.missing:
        closest = mapping.closest(canonical, table)
        aliases = ", ".join(table.columns[canonical][:4])
        near = f"; the closest header found is {excerpt(closest)}" if closest else "; the file has no similar header"
        parts.append(f"'{canonical}' (or {aliases}){near}")
    raise MissingColumnError(
        f"The {what} file {source} lacks the required column {'; '.join(parts)}. Nothing was loaded.",
        f"Rename the header in the file, map it in the {what}.columns table of a profile TOML "
        f'(for example card_id = "卡号"), or set it for every row in {what}.constants, and pass --profile; '
        "`ringsight profile check FILE` shows the mapping, `ringsight profile init FILE` writes a profile.",
        missing=list(mapping.missing),
        closest={c: mapping.closest(c, table) for c in mapping.missing},
    )


class MissingColumnError(InputError):
    """A file's header lacks a required column (raised before anything is written)."""

    def __init__(self, message: str, hint: str, *, missing: list[str], closest: dict[str, str | None]) -> None:
        super().__init__(message, hint)
        self.missing = missing
        self.closest = closest
