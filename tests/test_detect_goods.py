"""goods_as_drugs: partner pharmacies billing goods under drug codes, and the look-alikes it leaves alone.

The frames are hand-made and shaped unlike the synthetic generator's: local Chinese item codes,
items without a ``unit_price`` column (the price is amount / quantity), null quantities, codes and
diagnoses, facility kinds missing (a ``P`` national code is a pharmacy), a non-national pharmacy code.
"""

from __future__ import annotations

import json

import narwhals as nw
import polars as pl

from ringsight.algorithms.coverage import NEEDS
from ringsight.algorithms.detectors import DETECTORS, run_detectors
from ringsight.algorithms.detectors.goods import goods_as_drugs
from ringsight.algorithms.engine import PORTED, Source, spark_source
from ringsight.config import DetectSettings, DetectThresholds, DetectWeights

T0 = 1_751_299_200  # 2025-07-01 00:00 +08:00
DAY = 86_400
#: local tonic codes and their list prices (CNY): 六味 sells at cents
TONICS = {"补益-阿胶": 568.0, "补益-六味地黄": 26.5, "补益-西洋参": 168.0, "补益-复方阿胶浆": 198.0}
HONEST = [f"P4403060{i:04d}" for i in range(10)]  # ten ordinary pharmacies of another district
RING = ["P44030500101", "P44030500102", "P44030500103"]  # three partner shops of 南山 (440305)
PROMO = (98, 128, 168, 198, 298)


class City:
    """Claims and items built up sale by sale."""

    def __init__(self) -> None:
        self.claims: list[dict] = []
        self.items: list[dict] = []

    def sale(
        self,
        fac: str,
        card: str,
        ts: int,
        lines: list[tuple[str, float, float]],
        diag: str | None = "J06.900",
        kind: str | None = "pharmacy",
    ) -> None:
        cid = f"结算-{len(self.claims):05d}"
        self.claims.append(
            {
                "claim_id": cid,
                "claim_ts": ts,
                "pid": f"人-{card}",
                "card_id": card,
                "facility_code": fac,
                "facility_kind": kind,
                "diagnosis_code": diag,
                "total_amount": round(sum(q * p for _, q, p in lines), 2),
            }
        )
        for code, qty, price in lines:
            self.items.append({"claim_id": cid, "item_code": code, "quantity": qty, "amount": round(qty * price, 2)})

    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        return pl.DataFrame(self.claims), pl.DataFrame(
            self.items,
            schema={"claim_id": pl.String, "item_code": pl.String, "quantity": pl.Float64, "amount": pl.Float64},
        )


def _background(city: City) -> None:
    """Every tonic sold at list price at ten pharmacies on ordinary days (the codes' usual prices)."""
    n = 0
    for f, fac in enumerate(HONEST):
        for code, price in TONICS.items():
            for k in range(5):
                n += 1
                city.sale(
                    fac,
                    f"散客-{n}",
                    T0 + (k * 5 + f) * DAY + 36_000,
                    [(code, 1.0, price)],
                    diag=("J06.900", "K29.700", None)[n % 3],
                    kind=None if f % 2 else "pharmacy",
                )
    # rows that must be skipped, not crash: no code, no quantity
    city.items.append({"claim_id": city.claims[0]["claim_id"], "item_code": None, "quantity": 1.0, "amount": 9.9})
    city.items.append(
        {"claim_id": city.claims[1]["claim_id"], "item_code": "补益-阿胶", "quantity": None, "amount": 1.0}
    )


def _ring(city: City, shops: list[str] = RING, code_set: list[str] | None = None) -> list[str]:
    """Promotion days at partner shops: 14 elderly cards, varied baskets at round promotion prices."""
    codes = code_set or list(TONICS)
    cards = [f"老人卡-{shops[0]}-{i}" for i in range(14)]
    for day in range(0, 60, 2):  # ordinary days at the shops: walk-in buyers at list price
        for s, shop in enumerate(shops):
            city.sale(shop, f"过客-{shop}-{day}", T0 + day * DAY + 50_000 + s, [("补益-六味地黄", 1.0, 26.5)])
    for d in range(6):
        shop = shops[d % len(shops)]
        for j in range(7):
            card = cards[(d * 5 + j) % len(cards)]
            basket = [
                (codes[(d + j + k) % len(codes)], 1.0 + (j + k) % 2, PROMO[(d * 3 + j + k) % 5]) for k in range(2)
            ]
            city.sale(shop, card, T0 + (3 + d * 9) * DAY + 34_000 + j * 400, basket, diag="M54.500")
    return cards


def _leads(city: City, t: DetectThresholds | None = None) -> pl.DataFrame:
    claims, items = city.frames()
    return goods_as_drugs(claims, items, t or DetectThresholds())


def _shops(leads: pl.DataFrame) -> list[list[str]]:
    return [sorted(m["key"] for m in row if m["label"] == "Facility") for row in leads["members"].to_list()]


def test_partner_pharmacies_found_as_one_lead_with_their_cards() -> None:
    city = City()
    _background(city)
    cards = _ring(city)
    leads = _leads(city)
    assert _shops(leads) == [RING]
    row = leads.row(0, named=True)
    assert {m["key"] for m in row["members"] if m["label"] == "Card"} == set(cards)
    assert row["typology"] == "goods_as_drugs"
    numbers = json.loads(row["numbers"])
    assert numbers["n_shops"] == 3 and numbers["cues"] >= 4
    assert "partner_shops" in row["evidence_en"] and "round_prices" in row["evidence_en"]
    assert "{card:" not in row["evidence_en"] and 0 < row["strength"] <= 1
    # the detection window holds repeated keys as categoricals: the same lead
    claims, items = city.frames()
    cat = claims.with_columns(
        pl.col(c).cast(pl.Categorical) for c in ("facility_code", "card_id", "pid", "diagnosis_code")
    )
    assert goods_as_drugs(cat, items, DetectThresholds()).equals(leads)


def test_honest_promotion_at_list_price_is_not_a_lead() -> None:
    city = City()
    _background(city)
    for d in range(4):  # promotion days: many elderly cards, tonics, but at the list price
        for j in range(10):
            city.sale(
                "P44030700001",
                f"促销卡-{j}",
                T0 + (2 + d * 7) * DAY + 36_000 + j * 300,
                [(c, 2.0, p) for c, p in list(TONICS.items())[:3]],
                diag="I10.X00",
            )
    assert _leads(city).is_empty()


def test_chain_with_its_own_price_list_is_not_a_lead() -> None:
    city = City()
    _background(city)
    n = 0
    for fac, factor in (("P44030800001", 0.97), ("P44030800002", 0.61)):  # a few per cent off; far off, at cents
        for day in range(40):
            for code, price in TONICS.items():
                n += 1
                city.sale(fac, f"连锁卡-{n}", T0 + day * DAY + 40_000, [(code, 1.0, round(price * factor - 0.03, 2))])
    assert _leads(city).is_empty()


def test_tonics_at_list_price_to_elderly_chronic_patients_is_not_a_lead() -> None:
    city = City()
    _background(city)
    for d in range(30):
        for j in range(3):
            city.sale(
                "P44030500201",
                f"慢病卡-{j}",
                T0 + d * DAY + 30_000 + j * 60,
                [(c, 1.0, p) for c, p in TONICS.items()],
                diag="E11.900",
            )
    assert _leads(city).is_empty()


def test_new_drug_with_few_lines_is_not_trusted() -> None:
    city = City()
    _background(city)
    for i in range(3):  # a new drug, three shops at 25.3 …
        for k in range(3):
            city.sale(f"P4403090000{i}", f"新药卡-{i}-{k}", T0 + k * DAY + 30_000, [("新药-甲", 1.0, 25.3)])
    shops = ["P44030900101", "P44030900102"]  # … and two partner shops with the ring's shape on it
    _ring(city, shops, code_set=["新药-甲"])
    assert _leads(city).is_empty()
    # with the bar lowered, the same frames do make the lead: the rule above is what kept it out
    loose = DetectThresholds(goods_min_code_facilities=2, goods_min_code_lines=5)
    assert _shops(_leads(city, loose)) == [shops]


def test_no_items_or_no_price_columns_give_no_leads() -> None:
    city = City()
    _background(city)
    _ring(city)
    claims, items = city.frames()
    t = DetectThresholds()
    assert goods_as_drugs(claims, None, t).is_empty()
    assert goods_as_drugs(claims, items.head(0), t).is_empty()
    # a unit_price column wins over amount / quantity: list prices everywhere leave nothing off-price
    listed = items.with_columns(pl.col("item_code").replace_strict(TONICS, default=1.0).alias("unit_price"))
    assert goods_as_drugs(claims, listed, t).is_empty()
    # a window without diagnoses still scans (the off-label cue just never holds)
    assert not goods_as_drugs(claims.drop("diagnosis_code"), items, t).is_empty()


def test_non_national_pharmacy_codes_have_no_partners() -> None:
    city = City()
    _background(city)
    _ring(city, ["药房甲", "药房乙", "药房丙"])
    # kinds given, but no division in the codes: no partner cue, the shops stand alone
    leads = _leads(city)
    assert sorted(s for group in _shops(leads) for s in group) == sorted(["药房甲", "药房乙", "药房丙"])
    assert all(len(g) == 1 for g in _shops(leads))
    assert all("partner_shops" not in e for e in leads["evidence_en"])


def test_registered_documented_and_weighted() -> None:
    assert "goods_as_drugs" in DETECTORS and "goods_as_drugs" in PORTED and "goods_as_drugs" in NEEDS
    assert DetectWeights().goods_as_drugs > 0


def test_same_leads_on_polars_and_spark(spark_session) -> None:  # type: ignore[no-untyped-def]
    city = City()
    _background(city)
    _ring(city)
    claims, items = city.frames()
    t = DetectSettings().thresholds
    on_polars, _ = run_detectors(claims, items, t, ["goods_as_drugs"])
    assert not on_polars.is_empty()
    to_spark = lambda f: spark_session.createDataFrame(f.to_arrow(compat_level=pl.CompatLevel.oldest()))  # noqa: E731
    with_items = spark_source(to_spark(claims), to_spark(items))
    on_spark, _ = run_detectors(claims, items, t, ["goods_as_drugs"], source=with_items)
    assert on_spark.equals(on_polars)
    # a Spark window read without items gets the items sent over, with the same result
    without = Source(nw.from_native(to_spark(claims)), "spark")
    again, _ = run_detectors(claims, items, t, ["goods_as_drugs"], source=without)
    assert again.equals(on_polars)
