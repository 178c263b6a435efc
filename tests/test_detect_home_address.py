"""A located home address decides where a person lives, before the facilities they use.

Hand-made frames with keyed ids and real 成都 division codes: a shop in 金堂
swipes eight cards in bursts on its own terminal at midday, at ordinary
amounts, by rotating staff — two card-collecting cues (pharmacy, dedicated
terminal) of the three it needs. The third, 'far holders', is what the
holders' homes say.
"""

from __future__ import annotations

import polars as pl

from ringsight.algorithms import geo
from ringsight.algorithms.detectors import swiping
from ringsight.algorithms.frames import claims_frame
from ringsight.config import DetectThresholds

T = DetectThresholds()
T0 = 1_751_335_200  # 2025-07-01 10:00 +08:00
DAY = 86_400
SHOP = "P51012100099"  # 金堂县
JINTANG_CLINIC = "H51012100031"  # 金堂县, next to the shop
PUJIANG_CLINIC = "H51013100002"  # 蒲江县, ~114 km away
JINTANG, PUJIANG = "510121", "510131"


def _rows(usual_clinic: str, county: str | None) -> pl.DataFrame:
    rows = []
    for k, day in enumerate((3, 11, 19, 26, 40, 55)):
        for j in range(8):
            rows.append(
                {
                    "pid": f"person:{j}",
                    "card_id": f"card:{j}",
                    "address_key": f"address:{j}",
                    "patient_county": county,
                    "facility_code": SHOP,
                    "facility_kind": "pharmacy",
                    "claim_ts": T0 + day * DAY + 2 * 3600 + k * 60 + j * 90,
                    "terminal_id": "9",
                    "operator_id": f"op:{j % 4}",
                    "total_amount": 86.5,
                }
            )
            rows.append(  # the holder's own visits, at the clinic the facilities take for home
                {
                    "pid": f"person:{j}",
                    "card_id": f"card:{j}",
                    "address_key": f"address:{j}",
                    "patient_county": county,
                    "facility_code": usual_clinic,
                    "facility_kind": "clinic",
                    "claim_ts": T0 + (day + 1) * DAY + j * 3600,
                    "terminal_id": "1",
                    "total_amount": 23.4,
                }
            )
    return claims_frame([{"claim_id": f"h{i:05d}", **r} for i, r in enumerate(rows)])


def _held(claims: pl.DataFrame) -> set[str]:
    leads = swiping.burst_swiping(claims, T)
    return {m["key"] for ms in leads["members"].to_list() for m in ms if m["label"] == "Card"}


def test_far_home_address_makes_the_far_holders_cue() -> None:
    # the facilities alone place the holders next to the shop: two cues, no lead
    assert _held(_rows(JINTANG_CLINIC, None)) == set()
    # their addresses were located in 蒲江, ~114 km away: the third cue holds
    assert _held(_rows(JINTANG_CLINIC, PUJIANG)) == {f"card:{j}" for j in range(8)}


def test_home_address_next_to_the_shop_overrides_far_facilities() -> None:
    # the facilities alone would place the holders in 蒲江: a lead
    assert _held(_rows(PUJIANG_CLINIC, None)) == {f"card:{j}" for j in range(8)}
    # their addresses say 金堂, where the shop is: not far, no lead
    assert _held(_rows(PUJIANG_CLINIC, JINTANG)) == set()


def test_home_divisions_prefer_the_address_and_say_so() -> None:
    claims = _rows(PUJIANG_CLINIC, None).with_columns(
        pl.when(pl.col("pid") == "person:0").then(pl.lit(JINTANG)).otherwise(None).alias("patient_county")
    )
    homes = {r["pid"]: r for r in geo.home_divisions(claims).iter_rows(named=True)}
    assert (homes["person:0"]["home_division"], homes["person:0"]["home_from"]) == (JINTANG, "address")
    # without an address: the county where the person settles most often (the shop, 6 of 12 — tie → lower code)
    assert homes["person:1"]["home_from"] == "facilities"
    assert homes["person:1"]["home_division"] in {JINTANG, PUJIANG}
    by_card = geo.home_divisions(claims, "card_id")
    assert by_card.filter(pl.col("card_id") == "card:0")["home_division"].item() == JINTANG
    # a frame staged before addresses were located has no county column: facilities only
    old = geo.home_divisions(claims.drop("patient_county"))
    assert set(old["home_from"]) == {"facilities"}
