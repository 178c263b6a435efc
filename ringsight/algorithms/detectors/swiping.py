"""Pharmacy-side detectors: burst swiping of collected cards, identical baskets.

*Burst swiping* (聚敛盗刷, 突击划卡): a pharmacy that holds collected cards
swipes them one after another at one terminal. A busy counter also sees many
cards in half an hour, but not *the same* cards again and again. A burst is
either a window (``burst_minutes``, two offsets) with ``burst_min_cards`` or
more cards, or a *sitting*: a run of swipes at the terminal each less than
half a window after the last, holding ``burst_min_cards`` to
``covisit_max_group`` cards (a shop that swipes its collected cards slowly,
one every five to ten minutes for an hour, never fills a window; a busy
counter chains all day into a crowd and is left to the windows). Two cards
are linked when they burst together at the same terminal on
``burst_min_days`` or more days; a *burst group* is a connected
group of three or more such cards. A burst group is a lead when at least
``burst_min_cues`` of these cues agree:

- **pharmacy** — the facility is a pharmacy (cards are collected by shops);
- **dedicated terminal** — 80 % or more of the terminal's swipes are the
  group's (a back-office terminal the counter staff never use);
- **off hours** — 30 % or more of the swipes before 07:00 or from 22:00;
- **round amounts** — half or more of the amounts are whole tens of yuan;
- **one operator** — one operator settled 90 % or more of the swipes;
- **far holders** — the holders usually claim ``burst_far_km`` km or more
  away (county seats of their most frequent other facility).

Look-alikes ruled out: a quiet shop's regulars, who chain into sittings and
meet again on other days but show one or two cues (pharmacy, at most a
terminal of their own); a care home's check-up day — dozens of residents of
one address swiped at their community clinic within an hour, monthly, at
ordinary prices. When half or more of a group's holders live at one
institution address (``institution_min`` residents or more) the group needs
two cues more, so a clinic, a shared nurse and round fees are not enough.

*Identical baskets* (诱导购买生活用品, goods billed as drugs): the same
multi-item basket (codes and quantities) settled on ``basket_min_cards``
cards at one pharmacy, which holds at least 30 % of all its uses (a common
basket is spread over many pharmacies).
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from ringsight.algorithms import geo
from ringsight.algorithms.detectors.admissions import ClaimsIn, pair_components
from ringsight.algorithms.engine import Source, plain, source_of, with_optional
from ringsight.algorithms.lazy import Items, collect
from ringsight.algorithms.leads import finish, member, member_list, numbers_json
from ringsight.config import DetectThresholds

_TZ = 8 * 3600  # claim times are epoch seconds; days and hours are Asia/Shanghai

#: A terminal: its facility and terminal id ("" when the claim names none), as the scans key it
_TERM = ["facility_code", "terminal"]

#: claims per shard of the burst scan (its groups never span two facilities; see :meth:`Source.shards`)
_SHARD_ROWS = 2_500_000

#: ``off`` of the rows that come from sessions rather than fixed windows (pairs never mix the two)
_SESSION = -1


def swipes(claims: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Outpatient and pharmacy swipes of a card at a facility, with the terminal key and the day."""
    return claims.filter(
        ~nw.col("card_id").is_null() & ~nw.col("facility_code").is_null() & nw.col("admit_ts").is_null()
    ).with_columns(
        nw.col("terminal_id").fill_null("").alias("terminal"),
        ((nw.col("claim_ts") + _TZ) // 86_400).alias("day"),
    )


def burst_rows(claims: nw.LazyFrame[Any], t: DetectThresholds) -> nw.LazyFrame[Any]:
    """The scan: (facility, terminal, offset, window, day, on, card) of the cards swiped in a burst.

    A burst is a fixed window (two offsets) or a sitting (:func:`_sittings`) with
    ``burst_min_cards`` to ``covisit_max_group`` cards. ``day`` is the burst's day (a sitting's first
    day, so a sitting past midnight counts once), ``on`` the day of the swipe (to gather the swipes
    later). A card is kept only when it bursts at the
    terminal on ``burst_min_days`` days or more (it cannot pair otherwise; this prunes crowds).
    Written once on Narwhals: Polars runs it here, Spark on a cluster.
    """
    window = t.burst_minutes * 60
    slim = swipes(claims).select(*_TERM, "card_id", "day", "claim_ts")
    parts = []
    for off in (0, window // 2):
        sw = slim.with_columns(((nw.col("claim_ts") + off) // window).alias("win"))
        windows = (
            sw.group_by(*_TERM, "win")
            .agg(nw.col("card_id").n_unique().alias("cards"))
            .filter((nw.col("cards") >= t.burst_min_cards) & (nw.col("cards") <= t.covisit_max_group))
        )
        bursts = sw.join(windows.select(*_TERM, "win"), on=[*_TERM, "win"], how="semi")
        parts.append(
            bursts.select(
                *_TERM, nw.lit(off).cast(nw.Int64).alias("off"), "win", "day", nw.col("day").alias("on"), "card_id"
            ).unique()
        )
    parts.append(_sittings(slim, t))
    cw = nw.concat(parts, how="vertical")
    # distinct days per (terminal, card) by group-by and join: Spark refuses n_unique().over()
    days = (
        cw.group_by(*_TERM, "card_id")
        .agg(nw.col("day").n_unique().alias("days"))
        .filter(nw.col("days") >= t.burst_min_days)
    )
    return cw.join(days.select(*_TERM, "card_id"), on=[*_TERM, "card_id"], how="semi")


def _sittings(slim: nw.LazyFrame[Any], t: DetectThresholds) -> nw.LazyFrame[Any]:
    """(facility, terminal, off, sitting, day, on, card) of bursts seen as sittings: runs of swipes at one
    terminal with gaps under half the burst window, holding ``burst_min_cards`` to ``covisit_max_group`` cards.

    Why: a slowed-down burst (a swipe every five to ten minutes for an hour) never puts
    ``burst_min_cards`` cards into one fixed window, yet it is one sitting of the same cards. A busy
    counter chains all day into one sitting, larger than a crowd, and is left to the fixed windows.
    A sitting is numbered by an ordered cumulative sum per terminal, ordered by time alone: swipes in
    the same second are 0 s apart whatever their order, so only the first of them can open a sitting
    and every order numbers them alike on both engines (a tie-break by claim id sorted 10M strings:
    +1 GB at 10M claims). It starts on its first day.
    """
    gap = max(60, t.burst_minutes * 30)
    order = ["claim_ts"]
    starts = slim.with_columns(
        (nw.col("claim_ts") - nw.col("claim_ts").shift(1)).over(*_TERM, order_by=order).alias("gap")
    ).with_columns(((nw.col("gap") > gap) | nw.col("gap").is_null()).cast(nw.Int64).alias("start"))
    numbered = starts.with_columns(nw.col("start").cum_sum().over(*_TERM, order_by=order).alias("win"))
    sittings = (
        numbered.group_by(*_TERM, "win")
        .agg(
            nw.len().alias("n"),
            nw.col("card_id").n_unique().alias("cards"),
            nw.col("day").min().alias("first_day"),
        )
        .filter(
            (nw.col("n") >= t.burst_min_cards)
            & (nw.col("cards") >= t.burst_min_cards)
            & (nw.col("cards") <= t.covisit_max_group)
        )
    )
    return (
        numbered.join(sittings.select(*_TERM, "win", "first_day"), on=[*_TERM, "win"])
        .select(
            *_TERM,
            nw.lit(_SESSION).cast(nw.Int64).alias("off"),
            "win",
            nw.col("first_day").alias("day"),
            nw.col("day").alias("on"),
            "card_id",
        )
        .unique()
    )


def _keyed(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with 64-bit hashes of the terminal (``th``) and card (``ch``): the pairing runs on integers."""
    return frame.with_columns(
        pl.struct(*_TERM).hash(seed=5).alias("th"),
        pl.col("card_id").hash(seed=5).alias("ch"),
    )


def burst_swiping(claims: ClaimsIn, t: DetectThresholds) -> pl.DataFrame:
    """Cards swiped together in bursts at one terminal on several days."""
    src = source_of(claims)
    scans = src.shards(with_optional(src, ("terminal_id", "operator_id")), "facility_code", _SHARD_ROWS)
    cw = _keyed(pl.concat([plain(src.collect(burst_rows(part, t))) for part in scans]))
    # Card pairs per terminal, a slice of terminals at a time: the pairs of busy counters are many,
    # and slicing bounds the memory they take (terminals are independent of each other).
    slices = max(1, cw.height // 2_000_000 + 1)
    parts = []
    for part in cw.with_columns((pl.col("th") % slices).alias("slice")).partition_by("slice"):
        parts.append(
            part.join(part.select("th", "off", "win", pl.col("ch").alias("ch_b")), on=["th", "off", "win"])
            .filter(pl.col("ch") < pl.col("ch_b"))
            .group_by("th", "ch", "ch_b")
            .agg(pl.col("day").n_unique().alias("days"))
            .filter(pl.col("days") >= t.burst_min_days)
        )
    pairs = pl.concat(parts).rename({"ch": "pid", "ch_b": "pid_b"}) if parts else None
    if pairs is None or pairs.is_empty():
        return finish(cw.head(0), "burst_swiping", "card_collecting")
    comps = pair_components(pairs, "th").rename({"pid": "ch"})
    # the days the group's cards were swiped in its bursts (a sitting past midnight: both days)
    in_burst_days = (
        cw.join(comps, on=["th", "ch"])
        .group_by(*_TERM, "card_id", pl.col("on").alias("day"), "th", "comp")
        .agg(pl.col("day").min().alias("burst_day"))
    )
    rows = plain(src.collect(_group_swipes(src, in_burst_days)))
    rows = rows.join(in_burst_days, on=[*_TERM, "card_id", "day"]).sort("claim_id")
    rows = rows.with_columns(
        pl.concat_str([pl.col("facility_code"), pl.col("terminal_id").fill_null("")], separator=":").alias("term"),
        (((pl.col("claim_ts") + _TZ) % 86_400) // 3600).alias("hour"),
    )
    if rows.is_empty():
        return finish(rows, "burst_swiping", "card_collecting")
    leads = (
        rows.group_by("term", "comp")
        .agg(
            pl.col("facility_code").first(),
            pl.col("terminal_id").first(),
            pl.col("card_id").unique().sort().alias("cards"),
            pl.col("pid").drop_nulls().unique().sort().alias("pids"),
            pl.col("operator_id").drop_nulls().mode().sort().first().alias("operator_id"),
            pl.col("burst_day").n_unique().alias("days"),
            pl.col("claim_id").alias("claim_ids"),
            ((pl.col("hour") < 7) | (pl.col("hour") >= 22)).mean().alias("off_hours"),
            ((pl.col("total_amount") % 10).abs() < 0.005).mean().alias("round_amounts"),
            pl.col("total_amount").sum().round(2).alias("amount"),
        )
        .with_columns(pl.col("cards").list.len().alias("n_cards"))
    )
    leads = leads.filter(pl.col("n_cards") >= 3)
    leads = _burst_cues(src, rows, leads, t).filter(pl.col("cues") >= pl.col("needed"))
    cue_names = pl.concat_str(
        [pl.when(pl.col(c)).then(pl.lit(c)) for c in BURST_CUES], separator=", ", ignore_nulls=True
    )
    out = leads.with_columns(
        (
            (pl.col("cues") / len(BURST_CUES)).clip(0, 1) * 0.6
            + (pl.col("n_cards") / (2 * t.burst_min_cards)).clip(0, 1) * 0.2
            + (pl.col("days") / 6).clip(0, 1) * 0.2
        ).alias("strength"),
        pl.format(
            "终端 {} 在 {} 天内集中刷卡 {} 张医保卡（非营业时段占比 {}，整数金额占比 {}；线索：{}）",
            pl.col("term"),
            pl.col("days"),
            pl.col("n_cards"),
            pl.col("off_hours").round(2),
            pl.col("round_amounts").round(2),
            cue_names,
        ).alias("evidence_zh"),
        pl.format(
            "terminal {} swiped {} cards in bursts on {} days (off-hours share {}, round amounts {}; cues: {})",
            pl.col("term"),
            pl.col("n_cards"),
            pl.col("days"),
            pl.col("off_hours").round(2),
            pl.col("round_amounts").round(2),
            cue_names,
        ).alias("evidence_en"),
        numbers_json(
            "n_cards",
            "days",
            "off_hours",
            "round_amounts",
            "terminal_share",
            "institution_share",
            "holder_km",
            "cues",
            *BURST_CUES,
            "amount",
        ).alias("numbers"),
        pl.concat_list(
            pl.concat_list(member("Facility", "facility_code", "pharmacy")),
            pl.concat_list(
                member("Terminal", pl.when(pl.col("terminal_id").is_not_null()).then(pl.col("term")), "terminal")
            ),
            pl.concat_list(
                member(
                    "Operator",
                    pl.when(pl.col("operator_id").is_not_null()).then(
                        pl.concat_str([pl.col("facility_code"), pl.col("operator_id")], separator=":")
                    ),
                    "operator",
                )
            ),
            member_list("Card", "cards", "swiped_card"),
            member_list("Patient", "pids", "card_holder"),
        ).alias("members"),
    )
    return finish(out, "burst_swiping", "card_collecting")


def _group_swipes(src: Source, in_burst_days: pl.DataFrame) -> nw.LazyFrame[Any]:
    """The scan that gathers the burst groups' swipes on their burst days (a join with the few keys)."""
    cols = ["claim_id", "pid", "card_id", "facility_code", "terminal_id", "operator_id", "claim_ts", "total_amount"]
    keys = [*_TERM, "card_id", "day"]
    claims = with_optional(src, ("terminal_id", "operator_id"))
    gathered = swipes(claims).select(*cols, "terminal", "day")
    return gathered.join(src.table(in_burst_days.select(keys), like=gathered), on=keys, how="semi")


BURST_CUES = ("pharmacy", "dedicated_terminal", "off_hours_cue", "round_cue", "one_operator", "far_holders")


def _burst_cues(src: Source, rows: pl.DataFrame, leads: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """The card-collecting cues of each burst group, and how many it needs (more for an institution's residents).

    Each figure is a scan of the window narrowed at once to the groups' few terminals,
    facilities, holders or addresses (a join with a small table), so it runs where the data is.
    """
    if leads.is_empty():
        return leads.with_columns(
            *[pl.lit(False).alias(c) for c in BURST_CUES],
            pl.lit(0.0).alias("terminal_share"),
            pl.lit(0.0).alias("institution_share"),
            pl.lit(None, dtype=pl.Float64).alias("holder_km"),
            pl.lit(0).alias("cues"),
            pl.lit(0).alias("needed"),
        )
    claims = with_optional(src, ("terminal_id", "operator_id", "address_key", "patient_county"))
    # share of the terminal's swipes that are the group's
    terms = rows.select(*_TERM, "term").unique()
    at_terms = swipes(claims).select(*_TERM)
    per_term = plain(
        src.collect(
            at_terms.join(src.table(terms.select(_TERM), like=at_terms), on=_TERM, how="semi")
            .group_by(*_TERM)
            .agg(nw.len().alias("n"))
        )
    )
    term_total = terms.join(per_term, on=_TERM).group_by("term").agg(pl.col("n").sum().alias("term_swipes"))
    n_rows = rows.group_by("term", "comp").agg(
        pl.len().alias("group_swipes"),
        pl.col("operator_id").drop_nulls().value_counts().struct.field("count").max().fill_null(0).alias("top_op"),
        pl.col("facility_code").first().cast(pl.String).alias("fac"),
    )
    facs = claims.select("facility_code", "facility_kind")
    kinds = (
        plain(
            src.collect(
                facs.join(
                    src.table(rows.select("facility_code").unique(), like=facs), on="facility_code", how="semi"
                ).unique()
            )
        )
        .sort("facility_code", "facility_kind", nulls_last=True)
        .unique("facility_code", keep="first")
        .select(pl.col("facility_code").alias("fac"), "facility_kind")
    )
    pids = leads.select("term", "comp", pl.col("pids").alias("pid")).explode("pid").drop_nulls()
    # the holders' own claims (few): where they live and where they usually claim
    mine = claims.select("pid", "address_key", "patient_county", "facility_code", "admit_ts")
    held = plain(src.collect(mine.join(src.table(pids.select("pid").unique(), like=mine), on="pid", how="semi")))
    base = held.lazy().filter(pl.col("admit_ts").is_null())
    # holders living at an institution address
    homes = (
        base.select(pl.col("pid").cast(pl.String), pl.col("address_key").cast(pl.String))
        .drop_nulls()
        .sort("pid", "address_key")
        .unique("pid", keep="first")
        .collect()
    )
    people = claims.select("address_key", "pid").filter(~nw.col("address_key").is_null() & ~nw.col("pid").is_null())
    residents = plain(
        src.collect(
            people.join(src.table(homes.select("address_key").unique(), like=people), on="address_key", how="semi")
            .group_by("address_key")
            .agg(nw.col("pid").n_unique().alias("residents"))
        )
    )
    inst = (
        pids.with_columns(pl.col("pid").cast(pl.String))
        .join(homes, on="pid", how="left")
        .join(residents, on="address_key", how="left")
        .group_by("term", "comp")
        .agg((pl.col("residents").fill_null(0) >= t.institution_min).mean().alias("institution_share"))
    )
    # where the holders usually claim (their most frequent facility other than the shop)
    usual = collect(
        base.select(pl.col("pid").cast(pl.String), pl.col("facility_code").cast(pl.String))
        .join(pids.lazy().select(pl.col("pid").cast(pl.String)).unique(), on="pid", how="semi")
        .group_by("pid", "facility_code")
        .agg(pl.len().alias("n"))
    )
    far = (
        pids.with_columns(pl.col("pid").cast(pl.String))
        .join(n_rows.select("term", "comp", "fac"), on=["term", "comp"])
        .join(usual, on="pid")
        .filter(pl.col("facility_code") != pl.col("fac"))
        .sort("n", "facility_code", descending=[True, False])
        .unique(["term", "comp", "pid"], keep="first")
    )
    far = (
        geo.with_home_distance(far, held, "pid", "facility_code", "fac", "holder_km")  # located home, else usual
        .group_by("term", "comp")
        .agg(pl.col("holder_km").median())
    )
    out = (
        leads.join(n_rows, on=["term", "comp"])
        .join(term_total, on="term", how="left")
        .join(kinds, on="fac", how="left")
        .join(inst, on=["term", "comp"], how="left")
        .join(far, on=["term", "comp"], how="left")
        .with_columns(
            (pl.col("group_swipes") / pl.col("term_swipes").clip(1, None)).round(2).alias("terminal_share"),
            pl.col("institution_share").fill_null(0.0).round(2),
        )
        .with_columns(
            (pl.col("facility_kind") == "pharmacy").fill_null(False).alias("pharmacy"),
            (pl.col("terminal_share") >= 0.8).alias("dedicated_terminal"),
            (pl.col("off_hours") >= 0.3).alias("off_hours_cue"),
            (pl.col("round_amounts") >= 0.5).alias("round_cue"),
            (pl.col("top_op") / pl.col("group_swipes") >= 0.9).alias("one_operator"),
            (pl.col("holder_km") >= t.burst_far_km).fill_null(False).alias("far_holders"),
        )
        .with_columns(
            pl.sum_horizontal([pl.col(c).cast(pl.Int32) for c in BURST_CUES]).alias("cues"),
            (pl.lit(t.burst_min_cues) + pl.when(pl.col("institution_share") >= 0.5).then(2).otherwise(0)).alias(
                "needed"
            ),
        )
    )
    return out


def basket_rows(src: Source, t: DetectThresholds) -> nw.LazyFrame[Any]:
    """The scan: multi-item pharmacy claims of a basket on ``basket_min_cards`` cards at a pharmacy holding 30 %
    or more of its cards (a basket spread over many pharmacies is common, not a lead).

    A basket's signature is the order-free sum of the hashes of its (code, quantity) lines — Narwhals
    has neither hashes nor list aggregations, so the hash is the engine's own (:meth:`Source.with_hash`).
    Every pharmacy's claims of such a basket are kept: the finish computes the share from them.
    """
    pharmacy = src.claims.filter(nw.col("facility_kind") == "pharmacy")
    lines = (
        src.item_lines()
        .filter(~nw.col("item_code").is_null())
        .select("claim_id", nw.col("item_code").cast(nw.String), nw.col("quantity").round(2))
        .join(pharmacy.select("claim_id"), on="claim_id", how="semi")
    )
    lines = src.with_hash(src.with_hash(lines, "code", "item_code"), "h", "code", "quantity")
    baskets = (
        lines.group_by("claim_id")
        .agg(nw.col("h").sum().alias("basket"), nw.col("code").n_unique().alias("n_items"))
        .filter(nw.col("n_items") >= 2)
    )
    rows = src.cached(
        pharmacy.select("claim_id", "facility_code", "card_id", "pid", "total_amount").join(baskets, on="claim_id")
    )
    per = rows.group_by("basket", "facility_code").agg(nw.col("card_id").n_unique().alias("n_cards"))
    spread = per.group_by("basket").agg(nw.col("n_cards").sum().alias("all_cards"))
    hits = (
        per.filter(nw.col("n_cards") >= t.basket_min_cards)
        .join(spread, on="basket")
        .filter(nw.col("n_cards") / nw.col("all_cards") >= 0.3)
        .select("basket")
        .unique()
    )
    return rows.join(hits, on="basket", how="semi")


def identical_baskets(claims: ClaimsIn, items: Items | None, t: DetectThresholds) -> pl.DataFrame:
    """The same multi-item basket on many cards at one pharmacy, and rarely elsewhere."""
    src = source_of(claims, items)
    rows = src.collect(basket_rows(src, t)).sort("claim_id")
    if rows.is_empty():
        return finish(rows, "identical_baskets", "goods_as_drugs")
    by_fac = rows.group_by("basket", "facility_code").agg(
        pl.col("card_id").n_unique().alias("n_cards"),
        pl.col("card_id").unique().sort().alias("cards"),
        pl.col("pid").drop_nulls().unique().sort().alias("pids"),
        pl.col("claim_id").alias("claim_ids"),
        pl.col("n_items").first(),
        pl.col("total_amount").sum().round(2).alias("amount"),
    )
    by_fac = by_fac.with_columns((pl.col("n_cards") / pl.col("n_cards").sum().over("basket")).alias("share"))
    hits = by_fac.filter((pl.col("n_cards") >= t.basket_min_cards) & (pl.col("share") >= 0.3))
    leads = hits.group_by("facility_code").agg(
        pl.col("basket").len().alias("baskets"),
        pl.col("n_cards").max().alias("max_cards"),
        pl.col("cards").list.explode(keep_nulls=False, empty_as_null=False).unique().sort(),
        pl.col("pids").list.explode(keep_nulls=False, empty_as_null=False).unique().sort(),
        pl.col("claim_ids").list.explode(keep_nulls=False, empty_as_null=False),
        pl.col("amount").sum().round(2),
    )
    out = leads.with_columns(
        (pl.col("max_cards") / (3 * t.basket_min_cards) + pl.col("baskets") / 10).alias("strength"),
        pl.format(
            "药店 {} 有 {} 种相同的多品种购药组合，最多出现在 {} 张卡上",
            pl.col("facility_code"),
            pl.col("baskets"),
            pl.col("max_cards"),
        ).alias("evidence_zh"),
        pl.format(
            "pharmacy {} settled {} identical multi-item baskets, one on {} cards",
            pl.col("facility_code"),
            pl.col("baskets"),
            pl.col("max_cards"),
        ).alias("evidence_en"),
        numbers_json("baskets", "max_cards", "amount").alias("numbers"),
        pl.concat_list(
            pl.concat_list(member("Facility", "facility_code", "pharmacy")),
            member_list("Card", "cards", "basket_card"),
            member_list("Patient", "pids", "card_holder"),
        ).alias("members"),
    )
    return finish(out, "identical_baskets", "goods_as_drugs")
