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
"""

from __future__ import annotations

import difflib
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ringsight.errors import InputError

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
    """Headers and vocabularies of one table (claims or items)."""

    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    values: dict[str, dict[str, str]]
    keep_extra: tuple[str, ...] = ()

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


@dataclass
class Profile:
    """The claims and items profiles used for one load."""

    name: str
    claims: TableProfile
    items: TableProfile
    source: Path | None = None


def canonical_profile() -> Profile:
    """The built-in profile of the spec: canonical names, Chinese aliases, national field names."""
    return Profile(
        name="canonical",
        claims=TableProfile(dict(CLAIM_COLUMNS), CLAIM_REQUIRED, {k: dict(v) for k, v in CLAIM_VALUES.items()}),
        items=TableProfile(dict(ITEM_COLUMNS), ITEM_REQUIRED, {k: dict(v) for k, v in ITEM_VALUES.items()}),
    )


def load_profile(path: Path | None) -> Profile:
    """The canonical profile, extended by a user TOML profile when one is given."""
    profile = canonical_profile()
    if path is None:
        return profile
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"The profile {path} does not exist.", "Check the path given to --profile.") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"The profile {path} is not valid TOML: {exc}.",
            "Fix the file; see `ringsight profile check --help` for the layout.",
        ) from exc
    profile.name = str(data.get("name") or data.get("profile", {}).get("name") or path.stem)
    profile.source = path
    _extend(profile.claims, data.get("claims", {}), path, "claims")
    _extend(profile.items, data.get("items", {}), path, "items")
    return profile


def _extend(table: TableProfile, section: dict, path: Path, where: str) -> None:
    """Put a TOML section's headers first (they win over the built-in aliases) and merge values."""
    for canonical, headers in section.get("columns", {}).items():
        if canonical not in table.columns:
            raise InputError(
                f"The profile {path} maps '{canonical}' in its {where}.columns table, which is not a canonical column.",
                f"Use one of: {', '.join(table.columns)}.",
            )
        names = (headers,) if isinstance(headers, str) else tuple(str(h) for h in headers)
        table.columns[canonical] = (*names, *table.columns[canonical])
    for canonical, mapping in section.get("values", {}).items():
        if canonical not in table.columns:
            raise InputError(
                f"The profile {path} maps values of '{canonical}', which is not a canonical column.",
                f"Use one of: {', '.join(table.columns)}.",
            )
        merged = {str(k): str(v) for k, v in mapping.items()}
        table.values[canonical] = {**table.values.get(canonical, {}), **merged}
    extra = section.get("keep_extra", ())
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

    def closest(self, canonical: str, table: TableProfile) -> str | None:
        """The header in the file that looks most like a missing column or one of its aliases."""
        candidates = self.ignored + self.kept_extra
        if not candidates:
            return None
        wanted = [normalise_header(n) for n in (canonical, *table.columns[canonical])]
        best, best_score = None, 0.0
        for header in candidates:
            h = normalise_header(header)
            score = max(difflib.SequenceMatcher(None, h, w).ratio() for w in wanted)
            if score > best_score:
                best, best_score = header, score
        return best if best_score >= 0.4 else (difflib.get_close_matches(canonical, candidates, 1, 0.0) or [None])[0]


def map_headers(headers: list[str], table: TableProfile) -> HeaderMapping:
    """Match a file's headers to canonical columns (case, spaces and width ignored)."""
    lookup = table.lookup()
    priority = {}
    for canonical, aliases in table.columns.items():
        for rank, name in enumerate((canonical, *aliases)):
            priority.setdefault((canonical, normalise_header(name)), rank)
    mapped: dict[str, str] = {}
    ranks: dict[str, int] = {}
    duplicates: dict[str, list[str]] = {}
    ignored: list[str] = []
    keep = {normalise_header(e) for e in table.keep_extra}
    kept: list[str] = []
    for header in headers:
        norm = normalise_header(header)
        canonical = lookup.get(norm)
        if canonical is None:
            (kept if norm in keep else ignored).append(header)
            continue
        rank = priority[(canonical, norm)]
        if canonical in mapped:
            if rank < ranks[canonical]:
                duplicates.setdefault(canonical, []).append(mapped[canonical])
                mapped[canonical], ranks[canonical] = header, rank
            else:
                duplicates.setdefault(canonical, []).append(header)
            continue
        mapped[canonical], ranks[canonical] = header, rank
    missing = [c for c in table.required if c not in mapped]
    absent = [c for c in table.columns if c not in mapped and c not in table.required]
    return HeaderMapping(mapped, missing, absent, ignored, kept, duplicates)


def require_columns(mapping: HeaderMapping, table: TableProfile, source: Path, what: str) -> None:
    """Refuse a file that lacks a required column, naming it and the closest header found."""
    if not mapping.missing:
        return
    parts = []
    for canonical in mapping.missing:
        closest = mapping.closest(canonical, table)
        aliases = ", ".join(table.columns[canonical][:4])
        near = f"; the closest header found is '{closest}'" if closest else "; the file has no similar header"
        parts.append(f"'{canonical}' (or {aliases}){near}")
    raise MissingColumnError(
        f"The {what} file {source} lacks the required column {'; '.join(parts)}. Nothing was loaded.",
        f"Rename the header in the file, or map it in the {what}.columns table of a profile TOML "
        '(for example card_id = "卡号") and pass --profile; `ringsight profile check FILE` shows the mapping.',
        missing=list(mapping.missing),
        closest={c: mapping.closest(c, table) for c in mapping.missing},
    )


class MissingColumnError(InputError):
    """A file's header lacks a required column (raised before anything is written)."""

    def __init__(self, message: str, hint: str, *, missing: list[str], closest: dict[str, str | None]) -> None:
        super().__init__(message, hint)
        self.missing = missing
        self.closest = closest
