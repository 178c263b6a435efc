"""The medical catalogue: departments, diagnoses (ICD-10, medical-insurance edition style) and billable items.

Each diagnosis says who gets it (age, sex), how it is seen (outpatient,
inpatient, pharmacy weights), whether it peaks in winter or is chronic, how
long a stay lasts, and which drug groups treat it — so that items agree with
diagnoses in the background and the planted rings can break that agreement.
Item codes follow the national shapes: drugs 23 characters starting X
(Western) or Z (Chinese patent), services 15 digits, consumables starting C.
Prices are list prices in fen (CNY cents).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

DEPARTMENTS = (
    "全科", "呼吸内科", "心内科", "神经内科", "内分泌科", "消化内科", "普外科", "骨科", "泌尿外科",
    "妇产科", "眼科", "皮肤科", "儿科", "肿瘤科", "精神科", "耳鼻喉科", "中医科", "老年科",
)  # fmt: skip
DEPT_INDEX = {name: i for i, name in enumerate(DEPARTMENTS)}


@dataclass(frozen=True)
class Diagnosis:
    """One diagnosis and how it shows up in claims."""

    code: str
    name: str
    dept: str
    age_min: int
    age_max: int
    sex: str  # "", "M" or "F"
    w_out: float
    w_inp: float
    w_pha: float
    winter: bool
    chronic: bool
    los: float  # mean length of stay in days when admitted
    drugs: tuple[str, ...]  # drug groups


D = Diagnosis
DIAGNOSES: tuple[Diagnosis, ...] = (
    D("J06.900", "急性上呼吸道感染", "呼吸内科", 0, 99, "", 10, 0.2, 6, True, False, 4, ("resp_sym", "resp_abx")),
    D("J20.900", "急性支气管炎", "呼吸内科", 0, 99, "", 5, 0.5, 3, True, False, 6, ("resp_sym", "resp_abx")),
    D("J18.900", "肺炎", "呼吸内科", 0, 99, "", 1.5, 4, 0, True, False, 9, ("resp_abx", "infusion")),
    D("J03.900", "急性扁桃体炎", "耳鼻喉科", 2, 40, "", 3, 0.2, 1, True, False, 4, ("resp_abx",)),
    D("R50.900", "发热", "儿科", 0, 14, "", 4, 0.5, 1, True, False, 3, ("resp_sym",)),
    D("A09.900", "感染性腹泻", "消化内科", 0, 99, "", 2.5, 0.5, 1, False, False, 4, ("gastro",)),
    D("J44.900", "慢性阻塞性肺疾病", "呼吸内科", 50, 99, "", 3, 3, 2, True, True, 10, ("copd",)),
    D("I10.x00", "原发性高血压", "心内科", 35, 99, "", 9, 0.6, 9, False, True, 6, ("htn",)),
    D("I25.100", "冠状动脉粥样硬化性心脏病", "心内科", 45, 99, "", 4, 3, 3, False, True, 8, ("chd", "lipid")),
    D("I63.900", "脑梗死", "神经内科", 50, 99, "", 1.5, 4, 0.5, False, False, 14, ("neuro", "chd")),
    D("I67.800", "脑供血不足", "神经内科", 45, 99, "", 2, 0.8, 0.5, False, False, 9, ("neuro",)),
    D("E11.900", "2型糖尿病", "内分泌科", 30, 99, "", 7, 0.8, 7, False, True, 9, ("diab",)),
    D("E78.500", "高脂血症", "内分泌科", 30, 99, "", 4, 0.1, 4, False, True, 5, ("lipid",)),
    D("K29.700", "胃炎", "消化内科", 14, 99, "", 5, 0.3, 3, False, False, 5, ("gastro",)),
    D("K35.800", "急性阑尾炎", "普外科", 8, 80, "", 0.4, 2, 0, False, False, 6, ("resp_abx", "infusion")),
    D("K80.200", "胆囊结石", "普外科", 25, 99, "", 0.8, 2, 0, False, False, 7, ("gastro", "infusion")),
    D("M54.500", "腰痛", "骨科", 18, 99, "", 4, 0.3, 2, False, False, 7, ("ortho",)),
    D("M47.800", "颈椎病", "骨科", 25, 99, "", 3, 0.6, 1.5, False, False, 9, ("ortho",)),
    D("M17.900", "膝关节病", "骨科", 45, 99, "", 3, 0.8, 2, False, False, 10, ("ortho",)),
    D("S82.800", "小腿骨折", "骨科", 5, 99, "", 0.6, 1.5, 0, False, False, 12, ("ortho", "infusion")),
    D("N39.000", "泌尿道感染", "泌尿外科", 14, 99, "F", 2, 0.3, 1, False, False, 5, ("uro_abx",)),
    D("N40.x00", "前列腺增生", "泌尿外科", 50, 99, "M", 2, 0.6, 2, False, True, 8, ("uro",)),
    D("O80.000", "单胎顺产", "妇产科", 20, 42, "F", 0, 3, 0, False, False, 3, ("infusion",)),
    D("Z34.900", "正常妊娠监督", "妇产科", 20, 42, "F", 3, 0, 0, False, False, 2, ()),
    D("H10.900", "结膜炎", "眼科", 0, 99, "", 2, 0, 1.5, False, False, 2, ("eye",)),
    D("H25.900", "老年性白内障", "眼科", 55, 99, "", 0.8, 1.5, 0, False, False, 2, ("eye",)),
    D("L30.900", "皮炎", "皮肤科", 0, 99, "", 3, 0, 2, False, False, 3, ("derm",)),
    D("F32.900", "抑郁发作", "精神科", 16, 99, "", 1.2, 0.2, 0.8, False, True, 20, ("psych",)),
    D("G47.000", "失眠", "神经内科", 25, 99, "", 1.5, 0, 1.5, False, False, 5, ("psych",)),
    D("C34.900", "肺恶性肿瘤", "肿瘤科", 45, 99, "", 0.8, 1.5, 0.3, False, True, 9, ("onco", "infusion")),
    D("C50.900", "乳腺恶性肿瘤", "肿瘤科", 30, 99, "F", 0.6, 1.2, 0.2, False, True, 8, ("onco_breast", "infusion")),
)
DIAG_INDEX = {d.code: i for i, d in enumerate(DIAGNOSES)}


@dataclass(frozen=True)
class Item:
    """One billable catalogue item: code, name, category, list price (fen), group, traits."""

    code: str
    name: str
    category: str  # drug | service | material
    price: int
    group: str
    high_value: bool = False


def _drug(xz: str, atc: str, idx: int, name: str, price: int, group: str, high: bool = False) -> Item:
    atc = atc[1:] + "0" if atc.startswith("Z") else atc
    code = f"{xz}{atc}A{idx:03d}A{(idx * 7_919_003 + 104_729) % 10**12:012d}"
    return Item(code, name, "drug", price, group, high)


def _svc(idx: int, name: str, price: int, group: str) -> Item:
    return Item(f"{(idx * 97_003 + 3_100_000) % 10**9:09d}{idx:06d}", name, "service", price, group)


def _mat(idx: int, name: str, price: int, group: str) -> Item:
    return Item(f"C{(idx * 7_877 + 1_401_010) % 10**13:013d}{idx:06d}", name, "material", price, group)


_DRUGS = (
    ("X", "J01CA", "阿莫西林胶囊", 1250, "resp_abx"), ("X", "J01DD", "头孢克肟分散片", 2860, "resp_abx"),
    ("X", "J01FA", "阿奇霉素片", 1980, "resp_abx"), ("X", "J01MA", "左氧氟沙星片", 2450, "resp_abx"),
    ("X", "R05CB", "盐酸氨溴索口服溶液", 2390, "resp_sym"), ("Z", "ZA01A", "连花清瘟胶囊", 1580, "resp_sym"),
    ("X", "M01AE", "布洛芬缓释胶囊", 1620, "resp_sym"), ("X", "N02BE", "对乙酰氨基酚片", 560, "resp_sym"),
    ("X", "R03DA", "复方甲氧那明胶囊", 3120, "resp_sym"),
    ("X", "C08CA", "苯磺酸氨氯地平片", 2850, "htn"), ("X", "C09CA", "缬沙坦胶囊", 3260, "htn"),
    ("X", "C08CB", "硝苯地平控释片", 3380, "htn"), ("X", "C09CB", "厄贝沙坦片", 2490, "htn"),
    ("X", "C07AB", "酒石酸美托洛尔缓释片", 2760, "htn"),
    ("X", "A10BA", "盐酸二甲双胍缓释片", 1890, "diab"), ("X", "A10BF", "阿卡波糖片", 4120, "diab"),
    ("X", "A10BB", "格列美脲片", 3650, "diab"), ("X", "A10AB", "门冬胰岛素注射液", 7120, "diab"),
    ("X", "A10BK", "达格列净片", 5480, "diab"),
    ("X", "C10AA", "阿托伐他汀钙片", 3570, "lipid"), ("X", "C10AB", "瑞舒伐他汀钙片", 2980, "lipid"),
    ("X", "B01AC", "阿司匹林肠溶片", 1540, "chd"), ("X", "B01AD", "硫酸氢氯吡格雷片", 4760, "chd"),
    ("X", "C01DA", "单硝酸异山梨酯缓释片", 2230, "chd"), ("Z", "ZC01A", "复方丹参滴丸", 3260, "chd"),
    ("Z", "ZC01B", "麝香保心丸", 5880, "chd"),
    ("X", "R03BB", "噻托溴铵粉吸入剂", 16800, "copd"), ("X", "R03AK", "布地奈德福莫特罗吸入粉雾剂", 24300, "copd"),
    ("X", "A02BC", "奥美拉唑肠溶胶囊", 1860, "gastro"), ("X", "A02AD", "铝碳酸镁咀嚼片", 2140, "gastro"),
    ("X", "A07BC", "蒙脱石散", 1350, "gastro"), ("X", "A03FA", "枸橼酸莫沙必利片", 2670, "gastro"),
    ("X", "M01AH", "塞来昔布胶囊", 3890, "ortho"), ("X", "M01AE", "洛索洛芬钠片", 2240, "ortho"),
    ("X", "M01AB", "双氯芬酸钠缓释片", 1680, "ortho"), ("X", "M01AX", "硫酸氨基葡萄糖胶囊", 6880, "ortho"),
    ("Z", "ZG02A", "云南白药气雾剂", 5650, "ortho"),
    ("X", "J01XE", "呋喃妥因肠溶片", 1560, "uro_abx"), ("X", "J01MA", "左氧氟沙星胶囊", 2380, "uro_abx"),
    ("X", "G04CA", "盐酸坦索罗辛缓释胶囊", 4980, "uro"), ("X", "G04CB", "非那雄胺片", 5460, "uro"),
    ("X", "S01XA", "玻璃酸钠滴眼液", 3450, "eye"), ("X", "S01AE", "左氧氟沙星滴眼液", 2280, "eye"),
    ("X", "D07AC", "糠酸莫米松乳膏", 2680, "derm"), ("X", "R06AX", "氯雷他定片", 1870, "derm"),
    ("X", "N06AB", "盐酸舍曲林片", 6420, "psych"), ("X", "N05CD", "艾司唑仑片", 890, "psych"),
    ("X", "N05CF", "右佐匹克隆片", 3960, "psych"),
    ("X", "N07XX", "丁苯酞软胶囊", 24600, "neuro"), ("Z", "ZA12A", "银杏叶片", 2880, "neuro"),
    ("X", "L01EB", "甲磺酸奥希替尼片", 510000, "onco", True), ("X", "L01EB", "吉非替尼片", 54700, "onco", True),
    ("X", "L01CD", "注射用紫杉醇", 68000, "onco"), ("X", "L01FD", "注射用曲妥珠单抗", 559600, "onco_breast", True),
    ("X", "L02BG", "来曲唑片", 14200, "onco_breast"),
    ("X", "B05BB", "氯化钠注射液", 450, "infusion"), ("X", "B05BA", "葡萄糖注射液", 520, "infusion"),
    ("X", "J01DD", "注射用头孢曲松钠", 3860, "infusion"), ("X", "B05AA", "人血白蛋白", 39800, "infusion", True),
    ("Z", "ZA06A", "安宫牛黄丸", 78000, "tonic", True), ("Z", "ZA09A", "阿胶", 56800, "tonic", True),
    ("Z", "ZA09B", "六味地黄丸", 2650, "tonic"), ("Z", "ZA09C", "西洋参含片", 16800, "tonic"),
    ("Z", "ZA09D", "复方阿胶浆", 19800, "tonic"),
)  # fmt: skip

_SERVICES = (
    ("普通门诊诊查费", 5000, "visit"), ("血常规检查", 2000, "test_out"), ("尿常规检查", 1000, "test_out"),
    ("C反应蛋白测定", 3000, "test_out"), ("胸部X线摄影", 8000, "test_out"), ("心电图检查", 2500, "test_out"),
    ("彩色多普勒超声检查", 12000, "test_out"), ("生化全项检查", 18000, "test_inp"), ("胸部CT平扫", 25000, "test_inp"),
    ("磁共振平扫", 60000, "test_inp"), ("床位费", 5000, "bed"), ("一级护理", 3000, "nursing"),
    ("静脉输液", 1500, "proc"), ("换药", 2000, "proc"), ("手术费", 200000, "surgery"), ("麻醉费", 80000, "surgery"),
    ("针灸治疗", 4000, "rehab"), ("康复理疗", 6000, "rehab"), ("中频脉冲电治疗", 3500, "rehab"),
    ("颈椎牵引", 3000, "rehab"), ("健康体检套餐", 30000, "checkup"),
)  # fmt: skip

_MATERIALS = (
    ("一次性输液器", 650, "mat"), ("医用无菌纱布", 320, "mat"), ("一次性使用注射器", 180, "mat"),
    ("人工晶状体", 380000, "mat_surgery"), ("骨科内固定钢板", 960000, "mat_surgery"),
)  # fmt: skip


def _build_items() -> tuple[Item, ...]:
    items: list[Item] = []
    for i, row in enumerate(_DRUGS):
        xz, atc, name, price, group, *high = row
        items.append(_drug(xz, atc, i + 1, name, price, group, bool(high and high[0])))
    items += [_svc(i + 1, name, price, group) for i, (name, price, group) in enumerate(_SERVICES)]
    items += [_mat(i + 1, name, price, group) for i, (name, price, group) in enumerate(_MATERIALS)]
    return tuple(items)


ITEMS: tuple[Item, ...] = _build_items()
ITEM_INDEX = {it.name: i for i, it in enumerate(ITEMS)}


def items_in(group: str) -> np.ndarray:
    """Catalogue indices of the items in one group."""
    return np.array([i for i, it in enumerate(ITEMS) if it.group == group], dtype=np.int64)


def item_frame() -> pl.DataFrame:
    """The catalogue as a frame (one row per item), plus each drug's 7-digit trace-code product prefix."""
    return pl.DataFrame(
        {
            "item_code": [it.code for it in ITEMS],
            "item_name": [it.name for it in ITEMS],
            "item_category": [it.category for it in ITEMS],
            "trace_prefix": [f"8{(i * 3_571 + 12_345) % 10**6:06d}" for i in range(len(ITEMS))],
        }
    )


def diagnosis_frame() -> pl.DataFrame:
    """The diagnoses as a frame: code, name, department."""
    return pl.DataFrame(
        {
            "diagnosis_code": [d.code for d in DIAGNOSES],
            "diagnosis_name": [d.name for d in DIAGNOSES],
            "department": [d.dept for d in DIAGNOSES],
        }
    )


@dataclass(frozen=True)
class DrugPools:
    """Flat candidate drug lists per diagnosis: drugs for diagnosis d are flat[start[d] : start[d] + n[d]]."""

    flat: np.ndarray
    start: np.ndarray
    n: np.ndarray


def drug_pools() -> DrugPools:
    """Which drugs treat which diagnosis (diagnoses without drugs fall back to the symptomatic group)."""
    flat: list[int] = []
    start, count = [], []
    for d in DIAGNOSES:
        idx = [i for g in (d.drugs or ("resp_sym",)) for i in items_in(g).tolist()]
        start.append(len(flat))
        count.append(len(idx))
        flat += idx
    return DrugPools(np.array(flat, np.int64), np.array(start, np.int64), np.array(count, np.int64))


PRICES = np.array([it.price for it in ITEMS], dtype=np.int64)
IS_DRUG = np.array([it.category == "drug" for it in ITEMS])
DIAG_LOS = np.array([d.los for d in DIAGNOSES])
DIAG_DEPT = np.array([DEPT_INDEX[d.dept] for d in DIAGNOSES], dtype=np.int64)
DIAG_CHRONIC = np.array([d.chronic for d in DIAGNOSES])
CHRONIC_DRUG_DIAGS = ("I10.x00", "E11.900", "E78.500", "I25.100", "J44.900", "N40.x00")
