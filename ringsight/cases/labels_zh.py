"""Chinese names for the codes detection and loading write (typologies, signals, coded values).

The referral package is read on paper by people who never see RingSight, so
no English code may reach it: every code goes through :func:`zh`, which
falls back to the code itself only for a code this table does not know
(visible, rather than silently dropped).
"""

from __future__ import annotations

import re
from typing import Any

TYPOLOGY_ZH = {
    "card_collecting": "聚敛盗刷社保卡",
    "goods_as_drugs": "串换药品/生活用品",
    "impersonation": "冒名就医",
    "reselling": "套现倒卖药品",
    "ghost_patients": "虚构患者",
    "induced_admission": "诱导住院",
    "bed_holding": "挂床住院",
    "split_charges": "分解/重复收费",
    "doctor_pharmacy": "医药勾结",
    "trace_code_resale": "回流药",
    "repeated_admission": "反复住院",
    "recurrence": "屡查屡犯",
}
SIGNAL_ZH = {
    "shared_card": "多人共用医保卡",
    "shared_phone": "多人共用电话",
    "shared_address": "多人共用地址",
    "burst_swiping": "集中刷卡",
    "identical_baskets": "相同购药组合",
    "co_admission": "集体住院",
    "repeated_admission": "反复住院",
    "split_charges": "分解住院/重复收费",
    "stay_overlap": "住院期间异地结算",
    "shared_bed": "同床多人住院",
    "doctor_pharmacy": "处方集中流向药店",
    "drug_shopping": "多店重复购药",
    "impossible_travel": "异地就医时间不可能",
    "card_lending": "持卡人性别/年龄与诊断不符",
    "trace_code_resale": "追溯码重复销售",
    "amount": "涉案金额",
    "recurrence": "整改后再次出现",
}
VALUE_ZH = {
    "gender": {"M": "男", "F": "女", "男": "男", "女": "女"},
    "id_type": {"resident_id": "居民身份证", "resident": "居民身份证", "passport": "护照", "other": "其他证件"},
    "visit_type": {"outpatient": "门诊", "inpatient": "住院", "pharmacy": "药店购药", "unknown": "未知"},
}
#: The parties of a claim, named alike in the referral text and on the network picture.
PARTY_ZH = {
    "Patient": "参保人",
    "Card": "医保卡",
    "Phone": "电话",
    "Address": "地址",
    "Facility": "定点医药机构",
    "Doctor": "医师",
}
LABEL_ZH = {
    **PARTY_ZH,
    "Terminal": "终端",
    "Operator": "操作员",
    "Cluster": "团伙",
    "Claim": "结算",
}
_YUAN = re.compile(r"¥\s?(-?\d+(?:\.\d+)?)(?![\d,])")


def typology_zh(code: Any) -> str:
    """A typology code in Chinese."""
    return TYPOLOGY_ZH.get(str(code), str(code))


def signal_zh(code: Any) -> str:
    """A signal (detector) name in Chinese."""
    return SIGNAL_ZH.get(str(code), str(code))


def value_zh(prop: str, value: Any) -> Any:
    """A coded property value in Chinese (M → 男), or the value itself."""
    if value is None:
        return None
    return VALUE_ZH.get(prop, {}).get(str(value), value)


def money_in_text(text: str | None) -> str:
    """Money written by detection as '¥68970.0' made readable as '¥68,970.00'."""
    return _YUAN.sub(lambda m: f"¥{float(m.group(1)):,.2f}", text or "")
