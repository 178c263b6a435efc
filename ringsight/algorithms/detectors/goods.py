"""Goods billed as drugs at pharmacies (诱导购买生活用品、串换药品), read from item prices.

A pharmacy that sells daily goods or health products on insurance cards bills
them under the codes of drugs the fund pays for. The bill is then the goods'
price, not the drug's: a drug code's *unit price* at that shop is far from
the price the rest of the city charges for it. The scan (written once on
Narwhals: Polars here, Spark on a cluster) finds each drug code's usual unit
price — the price most of its lines city-wide carry; goods come at several
promotion prices, each rarer than the list price, so they do not move it —
and keeps the pharmacy lines ``goods_price_gap`` or more off it. A pharmacy with
``goods_min_lines`` or more such *off-price lines* is a candidate, and a lead
when at least ``goods_min_cues`` of these cues agree:

- **price spread** — a code at 1.5 or more different off-list prices on
  average at the shop (the price follows the goods sold, not the code);
- **round prices** — ``goods_round_share`` or more of the off-price lines at
  whole-yuan promotion prices (multiples of 2 or 5 yuan), more often than the
  codes' usual prices are;
- **off-label diagnoses** — half or more of the off-price lines carry a
  diagnosis that fewer than ``goods_diag_max_share`` of the code's
  usual-price lines city-wide carry (e.g. a tonic on a chronic back-pain
  patient's claim, where honest sales of it go with colds and gastritis);
- **promotion days** — the off-price lines fall on few days (at most
  ``goods_promo_max_share`` of the days the shop settled anything), with
  ``goods_day_min_cards`` or more cards on an average such day;
- **partner shops** — ``goods_partner_share`` or more of the shop's off-price
  cards also bought off-price at another pharmacy of the same county-level
  division (national facility code) in the window.

Pharmacies that pass and share off-price cards in one division form one lead
(the partner shops together), with the cards and their holders.

Look-alikes ruled out:

- an honest promotion at list price — no line is off the usual price;
- a chain with its own price list a few per cent off the city median — under
  ``goods_price_gap``; and a chain far off still has one price per code, at
  cents, spread over every day: one cue at most;
- a pharmacy selling many tonics at list price to elderly buyers — list price;
- a new drug with few lines city-wide — a code needs ``goods_min_code_lines``
  lines at ``goods_min_code_facilities`` facilities before its median is trusted.

Item prices come from ``unit_price`` when present, otherwise ``amount /
quantity`` (the detection frames keep only those); lines without a price or
code, claims without a facility, and non-pharmacy facilities are skipped.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from ringsight.algorithms.detectors.admissions import pair_components
from ringsight.algorithms.engine import Source, source_of
from ringsight.algorithms.lazy import Items
from ringsight.algorithms.leads import finish, member_list, numbers_json
from ringsight.config import DetectThresholds

#: The window's claims: a Polars frame (this machine) or a :class:`Source` on either engine.
ClaimsIn = pl.DataFrame | Source

GOODS_CUES = ("price_spread", "round_prices", "off_label", "promotion_days", "partner_shops")
_TZ = 8 * 3600  # claim times are epoch seconds; days are Asia/Shanghai
_ITEM_COLS = ("claim_id", "item_code", "quantity", "amount", "unit_price")
_CLAIM_COLS = ("claim_id", "facility_code", "facility_kind", "card_id", "pid", "claim_ts", "diagnosis_code")


def _items_of(src: Source, items: Items | None) -> nw.LazyFrame[Any] | None:
    """The items on the source's engine: the Source's own, else the frame passed (sent to Spark if need be)."""
    if src.items is not None:
        return src.items
    if items is None:
        return None
    lazy = items.lazy()
    if src.engine == "polars":
        return nw.from_native(lazy)
    # a Spark window read without its items: send the priced columns there once (Arrow)
    keep = [c for c in _ITEM_COLS if c in lazy.collect_schema().names()]
    table = lazy.select(keep).collect(engine="streaming").to_arrow(compat_level=pl.CompatLevel.oldest())
    return nw.from_native(src.claims.to_native().sparkSession.createDataFrame(table))


def _item_prices(items: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Item lines with a code and a unit price: (claim_id, item_code, price, amount)."""
    names = items.collect_schema().names()
    derived = nw.col("amount").cast(nw.Float64) / nw.col("quantity").cast(nw.Float64)
    if "unit_price" in names:
        price = nw.when(nw.col("unit_price").is_null()).then(derived).otherwise(nw.col("unit_price").cast(nw.Float64))
    else:
        price = derived
    return (
        items.filter(
            ~nw.col("item_code").is_null()
            & (nw.col("item_code").cast(nw.String) != "")
            & ~nw.col("quantity").is_null()
            & (nw.col("quantity") > 0)
            & ~nw.col("amount").is_null()
        )
        .with_columns(price.round(2).alias("price"), nw.col("item_code").cast(nw.String))
        .filter(~nw.col("price").is_null() & (nw.col("price") > 0))
        .select("claim_id", "item_code", "price", nw.col("amount").cast(nw.Float64))
    )


def _claim_keys(claims: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """The claims' facility, card, day and diagnosis (missing columns as nulls), for the lines to join."""
    cols = [c for c in _CLAIM_COLS if c in claims.collect_schema().names()]
    base = claims.select(cols).filter(~nw.col("facility_code").is_null())
    for missing in set(_CLAIM_COLS) - set(cols):  # a window without diagnoses or card ids still scans
        base = base.with_columns(nw.lit(None, nw.String).alias(missing))
    return base  # keys keep their engine types (categoricals on Polars): grouping runs on integer codes


def usual_prices(prices: nw.LazyFrame[Any], t: DetectThresholds) -> nw.LazyFrame[Any]:
    """The first scan: each well-sold code's usual unit price and line count, read from the item lines alone.

    A code's usual price is the price most of its lines carry (the lower one on a tie): goods billed
    under the code come at several promotion prices, each rarer than the list price, so they do not
    move it however many shops take part. One row per code comes back. (The items are the window's
    already; how many facilities sell a code is counted later, for the few codes found off-price.)
    """
    by_price = prices.group_by("item_code", "price").agg(nw.len().alias("n"))
    top = by_price.group_by("item_code").agg(nw.col("n").max().alias("top_n"), nw.col("n").sum().alias("code_lines"))
    return (
        by_price.join(top, on="item_code", how="inner")
        .filter(nw.col("n") == nw.col("top_n"))
        .group_by("item_code")
        .agg(nw.col("price").min().alias("usual"), nw.col("top_n").max(), nw.col("code_lines").max())
        .filter((nw.col("code_lines") >= t.goods_min_code_lines) & (nw.col("usual") > 0))
    )


def code_facilities(prices: nw.LazyFrame[Any], claims: nw.LazyFrame[Any], codes: list[str]) -> nw.LazyFrame[Any]:
    """Per code of ``codes``, how many facilities billed it (a usual price is trusted only from several)."""
    return (
        prices.filter(nw.col("item_code").is_in(codes))
        .select("claim_id", "item_code")
        .join(claims.select("claim_id", "facility_code"), on="claim_id", how="inner")
        .group_by("item_code")
        .agg(nw.col("facility_code").n_unique().alias("code_facs"))
    )


def usual_diagnoses(
    prices: nw.LazyFrame[Any], claims: nw.LazyFrame[Any], usual: nw.LazyFrame[Any], codes: list[str]
) -> nw.LazyFrame[Any]:
    """The last scan: per (code, diagnosis) of ``codes``, the lines at the code's usual price (honest sales)."""
    at_usual = (
        prices.filter(nw.col("item_code").is_in(codes))
        .join(usual.select("item_code", "usual"), on="item_code", how="inner")
        .filter(nw.col("price") == nw.col("usual"))
        .select("claim_id", "item_code")
    )
    return (
        at_usual.join(
            claims.select("claim_id", "diagnosis_code").filter(~nw.col("diagnosis_code").is_null()),
            on="claim_id",
            how="inner",
        )
        .with_columns(nw.col("diagnosis_code").cast(nw.String))
        .group_by("item_code", "diagnosis_code")
        .agg(nw.len().alias("diag_n"))
    )


def off_price_items(prices: nw.LazyFrame[Any], usual: nw.LazyFrame[Any], t: DetectThresholds) -> nw.LazyFrame[Any]:
    """Item lines of well-sold codes ``goods_price_gap`` or more off the code's usual price (few)."""
    gap = (nw.col("price") - nw.col("usual")).abs() / nw.col("usual")
    return prices.join(usual.select("item_code", "usual"), on="item_code", how="inner").filter(gap >= t.goods_price_gap)


def off_price_lines(off: nw.LazyFrame[Any], claims: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """The second scan: pharmacy lines of well-sold codes ``goods_price_gap`` or more off the code's usual price.

    The price gap is checked on the item lines first, so only the few off-price lines meet the claims.
    (Streamed passes, each joining only the claim columns it needs: holding every line joined to its
    claim would take GBs at 10M claims, 30M lines.)
    """
    is_pharmacy = (nw.col("facility_kind").cast(nw.String) == "pharmacy").fill_null(False) | (
        nw.col("facility_kind").is_null() & nw.col("facility_code").cast(nw.String).str.starts_with("P")
    )
    return (
        off.join(claims, on="claim_id", how="inner")
        .filter(is_pharmacy)
        .with_columns(_round(nw.col("price")).alias("round"), _round(nw.col("usual")).alias("usual_round"))
        .select(
            "claim_id",
            "item_code",
            "price",
            "amount",
            "usual",
            "facility_code",
            "card_id",
            "pid",
            "claim_ts",
            "diagnosis_code",
            "round",
            "usual_round",
        )
    )


def shop_days(claims: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """The scan's last pass: per pharmacy, the days it settled anything (to tell promotion days apart)."""
    names = claims.collect_schema().names()
    kind = nw.col("facility_kind").cast(nw.String) if "facility_kind" in names else nw.lit(None, nw.String)
    is_pharmacy = (kind == "pharmacy").fill_null(False) | (
        kind.is_null() & nw.col("facility_code").cast(nw.String).str.starts_with("P")
    )
    return (
        claims.filter(~nw.col("facility_code").is_null() & ~nw.col("claim_ts").is_null() & is_pharmacy)
        .with_columns(nw.col("facility_code").cast(nw.String), ((nw.col("claim_ts") + _TZ) // 86_400).alias("day"))
        .group_by("facility_code")
        .agg(nw.col("day").n_unique().alias("shop_days"))
    )


def _round(price: nw.Expr) -> nw.Expr:
    """A whole-yuan price that is a multiple of 2 or 5 yuan (98, 128, 168, 200 …)."""
    cents = (price * 100).round(0).cast(nw.Int64)
    return ((cents % 100) == 0) & (((cents % 200) == 0) | ((cents % 500) == 0))


def goods_as_drugs(claims: ClaimsIn, items: Items | None, t: DetectThresholds) -> pl.DataFrame:
    """Pharmacies billing goods under drug codes: off-list prices with enough other cues."""
    src = source_of(claims, items)
    its = _items_of(src, items)
    if its is None:
        return finish(pl.DataFrame(), "goods_as_drugs", "goods_as_drugs")
    prices, keys = _item_prices(its), _claim_keys(src.claims)
    usual = src.collect(usual_prices(prices, t))
    if usual.is_empty():
        return finish(usual, "goods_as_drugs", "goods_as_drugs")
    # the few off-price lines are collected before they meet the claims, so the claims' side of that
    # join is never the one held in a hash table (10M claims: ~1 GB less at the peak)
    off = src.collect(off_price_items(prices, src.to_engine(usual.select("item_code", "usual")), t))
    rows = src.collect(off_price_lines(src.to_engine(off), keys))
    codes = rows["item_code"].cast(pl.String).unique().sort().to_list()
    facs = src.collect(code_facilities(prices, keys, codes)) if codes else pl.DataFrame()
    trusted = (
        facs.filter(pl.col("code_facs") >= t.goods_min_code_facilities)["item_code"].cast(pl.String).to_list()
        if codes
        else []
    )
    rows = rows.filter(pl.col("item_code").cast(pl.String).is_in(trusted))
    if rows.is_empty():
        return finish(rows, "goods_as_drugs", "goods_as_drugs")
    usual = usual.filter(pl.col("item_code").cast(pl.String).is_in(trusted))
    diags = src.collect(usual_diagnoses(prices, keys, src.to_engine(usual.select("item_code", "usual")), trusted))
    keys = ("item_code", "diagnosis_code", "facility_code", "card_id", "pid")  # categoricals on Polars windows
    rows = rows.with_columns(pl.col(c).cast(pl.String) for c in keys)
    rows = (
        rows.join(usual.select(pl.col("item_code").cast(pl.String), "top_n"), on="item_code", how="left")
        .join(diags.with_columns(pl.col("item_code").cast(pl.String)), on=["item_code", "diagnosis_code"], how="left")
        .with_columns(
            # the share of the code's usual-price lines with this diagnosis; none given: never off-label
            pl.when(pl.col("diagnosis_code").is_null())
            .then(1.0)
            .otherwise(pl.col("diag_n").fill_null(0) / pl.col("top_n"))
            .alias("diag_share")
        )
    )
    rows = rows.with_columns(
        ((pl.col("claim_ts") + _TZ) // 86_400).alias("day"),
        # the county-level division inside a national code (P440305xxxxx); none for other codes
        pl.when(pl.col("facility_code").str.contains(r"^[HP]\d{11}$"))
        .then(pl.col("facility_code").str.slice(1, 6))
        .alias("division"),
    )
    days = src.collect(shop_days(src.claims))
    shops = _shop_cues(rows, days, t)
    shops = shops.filter((pl.col("lines") >= t.goods_min_lines) & (pl.col("cues") >= t.goods_min_cues))
    if shops.is_empty():
        return finish(shops, "goods_as_drugs", "goods_as_drugs")
    return _leads(rows.join(shops.select("facility_code"), on="facility_code", how="semi"), shops, t)


def _shop_cues(rows: pl.DataFrame, days: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """Per pharmacy: its off-price lines, cards, days and the five cues."""
    spread = (
        rows.group_by("facility_code", "item_code")
        .agg(pl.col("price").n_unique().alias("prices"))
        .group_by("facility_code")
        .agg(pl.col("prices").mean().alias("prices_per_code"))
    )
    per_day = (
        rows.group_by("facility_code", "day")
        .agg(pl.col("card_id").drop_nulls().n_unique().alias("day_cards"))
        .group_by("facility_code")
        .agg(pl.col("day_cards").mean().alias("cards_per_day"))
    )
    partners = _partner_share(rows)
    shops = (
        rows.group_by("facility_code")
        .agg(
            pl.len().alias("lines"),
            pl.col("card_id").drop_nulls().n_unique().alias("n_cards"),
            pl.col("day").n_unique().alias("days"),
            pl.col("round").mean().alias("round_share"),
            pl.col("usual_round").mean().alias("usual_round_share"),
            (pl.col("diag_share").fill_null(0.0) < t.goods_diag_max_share).mean().alias("off_label_share"),
        )
        .join(spread, on="facility_code", how="left")
        .join(per_day, on="facility_code", how="left")
        .join(partners, on="facility_code", how="left")
        .join(days, on="facility_code", how="left")
        .with_columns(pl.col("partner_share").fill_null(0.0), pl.col("shop_days").fill_null(0))
        .with_columns(
            (pl.col("prices_per_code") >= 1.5).alias("price_spread"),
            (
                (pl.col("round_share") >= t.goods_round_share) & (pl.col("round_share") > pl.col("usual_round_share"))
            ).alias("round_prices"),
            (pl.col("off_label_share") >= 0.5).alias("off_label"),
            (
                (pl.col("cards_per_day") >= t.goods_day_min_cards)
                & (pl.col("days") <= t.goods_promo_max_share * pl.col("shop_days"))
            ).alias("promotion_days"),
            (pl.col("partner_share") >= t.goods_partner_share).alias("partner_shops"),
        )
        .with_columns(pl.sum_horizontal([pl.col(c).cast(pl.Int32) for c in GOODS_CUES]).alias("cues"))
    )
    return shops


def _partner_share(rows: pl.DataFrame) -> pl.DataFrame:
    """Share of each pharmacy's off-price cards also off-price at another pharmacy of its division."""
    cards = rows.select("facility_code", "division", "card_id").drop_nulls().unique()
    other = cards.join(cards, on=["division", "card_id"], suffix="_b").filter(
        pl.col("facility_code") != pl.col("facility_code_b")
    )
    shared = other.group_by("facility_code").agg(pl.col("card_id").n_unique().alias("shared_cards"))
    total = cards.group_by("facility_code").agg(pl.len().alias("all_cards"))
    return total.join(shared, on="facility_code", how="left").select(
        "facility_code", (pl.col("shared_cards").fill_null(0) / pl.col("all_cards")).alias("partner_share")
    )


def _groups(rows: pl.DataFrame, shops: pl.DataFrame) -> pl.DataFrame:
    """Passing pharmacies of one division sharing off-price cards, as one group each: facility_code, group."""
    cards = rows.select("facility_code", "division", "card_id").drop_nulls().unique()
    pairs = (
        cards.join(cards, on=["division", "card_id"], suffix="_b")
        .filter(pl.col("facility_code") < pl.col("facility_code_b"))
        .select("division", pl.col("facility_code").alias("pid"), pl.col("facility_code_b").alias("pid_b"))
        .unique()
    )
    comps = pair_components(pairs, "division").select(pl.col("pid").alias("facility_code"), "division", "comp")
    alone = shops.select("facility_code").join(comps, on="facility_code", how="anti")
    return pl.concat(
        [
            comps.select("facility_code", pl.concat_str([pl.col("division"), pl.col("comp").cast(pl.String)])),
            alone.select("facility_code", pl.col("facility_code").alias("division")),
        ]
    ).rename({"division": "group"})


def _leads(rows: pl.DataFrame, shops: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """One lead per group of partner pharmacies: the shops, the cards and their holders."""
    groups = _groups(rows, shops)
    cue_names = pl.concat_str(
        [pl.when(pl.col(c)).then(pl.lit(c)) for c in GOODS_CUES], separator=", ", ignore_nulls=True
    )
    per_shop = shops.join(groups, on="facility_code").with_columns(cue_names.alias("cue_names"))
    lines = rows.join(groups, on="facility_code")
    leads = (
        lines.sort("claim_id", "item_code")
        .group_by("group")
        .agg(
            pl.col("facility_code").unique().sort().alias("pharmacies"),
            pl.col("card_id").drop_nulls().unique().sort().alias("cards"),
            pl.col("pid").drop_nulls().unique().sort().alias("pids"),
            pl.col("claim_id").unique().sort().alias("claim_ids"),
            pl.len().alias("lines"),
            pl.col("day").n_unique().alias("days"),
            pl.col("amount").sum().round(2).alias("amount"),
        )
        .join(
            per_shop.sort("cues", "lines", "facility_code", descending=[True, True, False])
            .group_by("group")
            .agg(
                pl.col("facility_code").first().alias("lead_shop"),
                pl.col("cues").max(),
                pl.col("cue_names").first(),
                pl.col("round_share").max().round(2),
                pl.col("off_label_share").max().round(2),
                pl.col("prices_per_code").max().round(2),
                pl.col("cards_per_day").max().round(2),
                pl.col("partner_share").max().round(2),
            ),
            on="group",
        )
        .with_columns(pl.col("pharmacies").list.len().alias("n_shops"), pl.col("cards").list.len().alias("n_cards"))
        .sort("group")
    )
    out = leads.with_columns(
        (
            (pl.col("cues") / len(GOODS_CUES)).clip(0, 1) * 0.6
            + (pl.col("lines") / (5 * t.goods_min_lines)).clip(0, 1) * 0.2
            + (pl.col("n_cards") / 15).clip(0, 1) * 0.2
        ).alias("strength"),
        pl.format(
            "药店 {} 等 {} 家药店以药品编码按偏离常规单价的价格结算 {} 行，涉及 {} 张医保卡（线索：{}）",
            pl.col("lead_shop"),
            pl.col("n_shops"),
            pl.col("lines"),
            pl.col("n_cards"),
            pl.col("cue_names"),
        ).alias("evidence_zh"),
        pl.format(
            "pharmacy {} and {} partner shop(s) billed {} lines under drug codes far from the codes' usual unit "
            "price, on {} cards (cues: {})",
            pl.col("lead_shop"),
            pl.col("n_shops") - 1,
            pl.col("lines"),
            pl.col("n_cards"),
            pl.col("cue_names"),
        ).alias("evidence_en"),
        numbers_json(
            "n_shops",
            "lines",
            "n_cards",
            "days",
            "cues",
            "prices_per_code",
            "round_share",
            "off_label_share",
            "cards_per_day",
            "partner_share",
            "amount",
        ).alias("numbers"),
        pl.concat_list(
            member_list("Facility", "pharmacies", "pharmacy"),
            member_list("Card", "cards", "goods_card"),
            member_list("Patient", "pids", "card_holder"),
        ).alias("members"),
    )
    return finish(out, "goods_as_drugs", "goods_as_drugs")
