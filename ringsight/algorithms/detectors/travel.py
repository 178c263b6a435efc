"""One card in two places too far apart for the time between (冒名就医, 盗刷): impersonation.

A *jump* is two consecutive settlements of one card at facilities in
different county-level divisions less than ``travel_max_hours`` apart, or
less than ``travel_day_hours`` apart when the later one gives an impostor's
phone (see below: a slow impostor still uses the gang's phones). A jump
alone is ordinary (a patient sees the local clinic, then a hospital across
town). Each card's jumps are weighed on independent cues, and a card is a
lead when at least ``travel_min_cues`` of them hold:

- **repeated** — ``travel_min_jumps`` or more jumps in the window;
- **far and fast** — a jump of ``travel_far_km`` km or more (county seats
  from the division table of :mod:`ringsight.algorithms.geo`; a code the
  table cannot place counts as far only when the prefecture differs) at an
  implied door-to-door speed of ``travel_fast_kmh`` km/h or more, visit
  included. One cue, not two: a suburban patient who sees the village clinic
  and then the city hospital the same morning is both;
- **impossible** — between two prefectures at ``travel_impossible_kmh``
  km/h or more (faster than a high-speed train). Within a city a settlement
  time can lag the visit (batch settlement), so the speed alone does not count;
- **odd phone** — the far claim gives a phone that is not the card's usual one
  (its most frequent phone on claims that are not jump arrivals, so an
  impostor who uses the card as often as its holder does not become usual);
- **impostor phone** — that odd phone is also given on other cards' jumps;
- **hub** — the far facility receives ``travel_min_jumps`` or more far jumps
  each from ``travel_hub_min_cards`` or more cards of one home county, who are
  most of the cards it sees from that county (a clinic where one gang settles
  collected cards; a referral hospital's far patients mostly come without a
  claim at home that morning, and rarely twice);
- **other city** — the two facilities are in different prefectures.

Look-alikes ruled out: the same-day traveller 100+ km away 5–9 hours later
(beyond the window under their own phone, and slow: no jump); the chronic patient who goes from the
community clinic to a hospital in the next district (near, slow, own phone:
at most "repeated"); the suburban patient referred downtown again and again
(repeated, far and fast: two cues); the one-off fast drive (one cue). The
far facility is a member (role ``hub_clinic``, which links the cards of one
gang into one cluster) only when the hub cue holds.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from ringsight.algorithms import geo
from ringsight.algorithms.engine import Source, plain, source_of, with_optional
from ringsight.algorithms.evidence import entity_ref
from ringsight.algorithms.leads import finish, member, member_list, numbers_json
from ringsight.config import DetectThresholds

#: The window's claims: a Polars frame (this machine) or a :class:`Source` on either engine.
ClaimsIn = pl.DataFrame | Source

CUES = ("repeated", "far_fast", "impossible", "odd_phone", "impostor_phone", "hub", "other_city")


def _division(col: str) -> nw.Expr:
    """:func:`geo.division_of` on Narwhals: the 6-digit division inside a facility code."""
    return nw.col(col).cast(nw.String).str.slice(1, 6)


def jump_rows(claims: nw.LazyFrame[Any], t: DetectThresholds) -> nw.LazyFrame[Any]:
    """The scan: each claim of a card whose previous claim (time, then claim id) was in another
    division less than ``max(travel_max_hours, travel_day_hours)`` before, with that claim's facility,
    time and id.

    Written once on Narwhals: the previous claim is an ordered shift per card, which Polars and
    Spark both run (no as-of join: Narwhals has none on Spark). Most claims have no other claim of
    their card within that time; a first cheap pass (the gap to the card's previous time, ordered by
    time alone, which is the same whichever way ties fall) keeps the claims that follow another one
    closely and those they follow, so the previous claim found among them (ordered by time, then
    claim id) is the true one whenever it is near enough to matter.
    """
    limit = max(t.travel_max_hours, t.travel_day_hours) * 3600
    ts = nw.col("claim_ts")
    seq = claims.select(
        "card_id", "pid", "facility_code", "claim_ts", "claim_id", "total_amount", "patient_phone"
    ).filter(~nw.col("card_id").is_null() & ~nw.col("facility_code").is_null())
    # arrivals: claims less than ``limit`` after the card's previous time (ties: 0 s, whichever comes first)
    gaps = seq.select("card_id", "claim_ts", (ts - ts.shift(1)).over("card_id", order_by="claim_ts").alias("_gap"))
    arrivals = gaps.filter(nw.col("_gap") < limit)
    times = nw.concat(
        [arrivals.select("card_id", "claim_ts"), arrivals.select("card_id", (ts - nw.col("_gap")).alias("claim_ts"))]
    )
    near = seq.join(times, on=["card_id", "claim_ts"], how="semi")  # the arrivals and the claims they follow
    order = ["claim_ts", "claim_id"]
    paired = near.with_columns(
        nw.col("facility_code").shift(1).over("card_id", order_by=order).alias("prev_fac"),
        ts.shift(1).over("card_id", order_by=order).alias("prev_ts"),
        nw.col("claim_id").shift(1).over("card_id", order_by=order).alias("prev_claim"),
    )
    return paired.filter(
        ~nw.col("prev_fac").is_null()
        & (_division("facility_code") != _division("prev_fac"))
        & ((ts - nw.col("prev_ts")) < limit)
    )


def _jumps(src: Source, t: DetectThresholds) -> pl.DataFrame:
    """Consecutive claims of one card at two divisions within ``travel_max_hours``, with km and km/h."""
    jumps = plain(src.collect(jump_rows(with_optional(src, ("patient_phone",)), t))).with_columns(
        pl.col("facility_code").cast(pl.String),
        pl.col("prev_fac").cast(pl.String),
    )
    jumps = geo.with_distance(jumps, "prev_fac", "facility_code")
    hours = ((pl.col("claim_ts") - pl.col("prev_ts")).clip(60, None) / 3600).alias("hours")
    other_city = geo.division_of(pl.col("facility_code")).str.slice(0, 4) != geo.division_of(
        pl.col("prev_fac")
    ).str.slice(0, 4)
    return jumps.with_columns(
        ((pl.col("claim_ts") - pl.col("prev_ts")) < t.travel_max_hours * 3600).alias("within"),
        other_city.alias("other_city"),
        ((pl.col("claim_ts") - pl.col("prev_ts")) / 60).round(0).alias("minutes"),
        (pl.col("km") / hours).round(1).alias("kmh"),
        geo.division_of(pl.col("prev_fac")).alias("home_division"),
    ).with_columns(
        pl.when(pl.col("km").is_not_null())
        .then(pl.col("km") >= t.travel_far_km)
        .otherwise(pl.col("other_city"))
        .alias("far"),
        ((pl.col("kmh") >= t.travel_fast_kmh) & (pl.col("km") >= t.travel_far_km / 2)).fill_null(False).alias("fast"),
    )


def _usual_phones(src: Source, jumps: pl.DataFrame) -> pl.DataFrame:
    """Each jumping card's most frequent phone on its claims other than the jumps' arrivals.

    The arrivals are left out because an impostor who used a card as often as its holder would
    otherwise tie with (or outvote) the holder's own phone. The counts are a scan narrowed to the
    jumping cards; the pick of the most frequent runs here on those counts.
    """
    phones = (
        with_optional(src, ("patient_phone",))
        .select("card_id", "claim_id", "patient_phone")
        .filter(~nw.col("patient_phone").is_null())
    )
    counts = (
        phones.join(src.table(jumps.select("card_id").unique(), like=phones), on="card_id", how="semi")
        .join(src.table(jumps.select("claim_id"), like=phones), on="claim_id", how="anti")
        .group_by("card_id", "patient_phone")
        .agg(nw.len().alias("n"))
    )
    return (
        plain(src.collect(counts))
        .sort("n", "patient_phone", descending=[True, False])
        .unique("card_id", keep="first")
        .select("card_id", pl.col("patient_phone").alias("usual_phone"))
    )


def _hubs(src: Source, jumps: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """(facility_code, home_division, hub) of far facilities where one home county's cards arrive by jumps.

    A hub receives ``travel_min_jumps`` or more far jumps each from
    ``travel_hub_min_cards`` or more cards of one home county (a referral
    hospital's far patients rarely jump to it twice within hours of a claim at
    home), and they are half or more of the cards from that county it sees at
    all (a big hospital's patients from a far county mostly come without a
    claim at home the same morning).
    """
    far = jumps.filter(pl.col("far")).with_columns(
        (pl.len().over("facility_code", "home_division", "card_id") >= t.travel_min_jumps).alias("again")
    )
    cand = (
        far.filter(pl.col("again"))
        .group_by("facility_code", "home_division")
        .agg(pl.col("card_id").n_unique().alias("jumpers"))
        .filter(pl.col("jumpers") >= t.travel_hub_min_cards)
    )
    if cand.is_empty():
        return cand.select("facility_code", "home_division", pl.lit(True).alias("hub"))
    seen = src.claims.select("card_id", "facility_code").filter(~nw.col("card_id").is_null())
    hub_facs = src.table(cand.select("facility_code").unique(), like=seen)
    at = plain(src.collect(seen.join(hub_facs, on="facility_code", how="semi").unique()))
    # each visiting card's home county: its holder's located address, else the county where it settles most often
    theirs = with_optional(src, ("patient_county",)).select("card_id", "facility_code", "patient_county")
    visiting = plain(
        src.collect(theirs.join(src.table(at.select("card_id").unique(), like=theirs), on="card_id", how="semi"))
    )
    home = geo.home_divisions(visiting, "card_id").select("card_id", "home_division")
    visitors = (
        at.join(home, on="card_id")
        .group_by("facility_code", "home_division")
        .agg(pl.col("card_id").n_unique().alias("visitors"))
    )
    return cand.join(visitors, on=["facility_code", "home_division"], how="left").select(
        "facility_code",
        "home_division",
        (pl.col("jumpers") >= 0.5 * pl.col("visitors").fill_null(0)).alias("hub"),
    )


def impossible_travel(claims: ClaimsIn, t: DetectThresholds) -> pl.DataFrame:
    """Cards whose jumps between places show ``travel_min_cues`` or more impersonation cues."""
    src = source_of(claims)
    jumps = _jumps(src, t)
    if jumps.is_empty():
        return finish(jumps, "impossible_travel", "impersonation")
    usual = _usual_phones(src, jumps)
    jumps = jumps.join(usual, on="card_id", how="left").with_columns(
        pl.when(pl.col("patient_phone") != pl.col("usual_phone")).then(pl.col("patient_phone")).alias("odd_phone")
    )
    # an odd phone given on the jumps of two or more cards is an impostor's
    jumps = jumps.with_columns(
        (pl.col("card_id").n_unique().over("odd_phone") >= 2)
        .fill_null(False)
        .and_(pl.col("odd_phone").is_not_null())
        .alias("impostor_phone"),
    )
    # a same-day jump beyond the window counts only under an impostor's phone (a traveller gives their own)
    jumps = jumps.filter(pl.col("within") | pl.col("impostor_phone"))
    if jumps.is_empty():
        return finish(jumps, "impossible_travel", "impersonation")
    jumps = jumps.join(_hubs(src, jumps, t), on=["facility_code", "home_division"], how="left").with_columns(
        pl.col("hub").fill_null(False) & pl.col("far")
    )
    per = jumps.group_by("card_id").agg(
        pl.len().alias("jumps"),
        (pl.col("far") & pl.col("fast")).any().alias("far_fast"),
        (pl.col("other_city") & (pl.col("kmh") >= t.travel_impossible_kmh)).fill_null(False).any().alias("impossible"),
        pl.col("odd_phone").is_not_null().any().alias("odd_phone"),
        pl.col("impostor_phone").any(),
        pl.col("hub").any(),
        pl.col("other_city").any(),
        pl.col("odd_phone").drop_nulls().unique().sort().alias("odd_phones"),
        pl.col("km").max().alias("max_km"),
        pl.col("kmh").max().alias("max_kmh"),
        pl.col("minutes").min().alias("min_minutes"),
        (pl.col("minutes").max() / 60).round(1).alias("max_hours"),
        pl.col("pid").drop_nulls().unique().sort().alias("pids"),
        pl.col("facility_code").filter(pl.col("hub")).unique().sort().alias("hubs"),
        pl.concat_list("facility_code", "prev_fac")
        .list.explode(keep_nulls=False, empty_as_null=False)
        .unique()
        .sort()
        .alias("facilities"),
        pl.concat_list("claim_id", "prev_claim").list.explode(keep_nulls=False, empty_as_null=False).alias("claim_ids"),
        pl.col("total_amount").sum().round(2).alias("amount"),
    )
    per = per.with_columns((pl.col("jumps") >= t.travel_min_jumps).alias("repeated"))
    per = per.with_columns(pl.sum_horizontal([pl.col(c).cast(pl.Int32) for c in CUES]).alias("cues"))
    leads = per.filter(pl.col("cues") >= t.travel_min_cues)
    cue_list = pl.concat_str(
        [pl.when(pl.col(c)).then(pl.lit(c)) for c in CUES], separator=", ", ignore_nulls=True
    ).alias("cue_names")
    out = leads.with_columns(cue_list).with_columns(
        (pl.col("cues") / len(CUES) * 1.4).clip(0, 1).alias("strength"),
        pl.format(
            "医保卡 {} 有 {} 次在 {} 小时内于不同区县结算（最远 {} 公里，最快 {} 公里/小时；线索：{}）",
            entity_ref("card", "card_id"),
            pl.col("jumps"),
            pl.col("max_hours"),
            pl.col("max_km").cast(pl.String).fill_null("?"),
            pl.col("max_kmh").cast(pl.String).fill_null("?"),
            pl.col("cue_names"),
        ).alias("evidence_zh"),
        pl.format(
            "card {} settled in different counties {} times within {} h (up to {} km, {} km/h; cues: {})",
            entity_ref("card", "card_id"),
            pl.col("jumps"),
            pl.col("max_hours"),
            pl.col("max_km").cast(pl.String).fill_null("?"),
            pl.col("max_kmh").cast(pl.String).fill_null("?"),
            pl.col("cue_names"),
        ).alias("evidence_en"),
        numbers_json("jumps", "cues", *CUES, "max_km", "max_kmh", "min_minutes", "max_hours", "amount").alias(
            "numbers"
        ),
        pl.concat_list(
            pl.concat_list(member("Card", "card_id", "travelling_card")),
            member_list("Patient", "pids", "card_holder"),
            member_list("Facility", "hubs", "hub_clinic"),  # before "facility": the first role of a key is kept
            member_list("Facility", "facilities", "facility"),
            member_list("Phone", "odd_phones", "impostor_phone"),
        ).alias("members"),
    )
    return finish(out, "impossible_travel", "impersonation")
