"""Write-once candidates for detection on Polars and on Spark: Narwhals, Ibis and SQLGlot-transpiled SQL.

Three real detector cores, each written once per approach and run on both engines over the same staged
Parquet: (A) values shared by ≥ k persons (shared_card/phone/address), (B) burst windows of ≥ 5 cards at
one terminal with the cards' burst days (burst_swiping), (C) doctor→pharmacy concentration with a window
sum over the doctor (doctor_pharmacy). Prints seconds per engine, whether the results match exactly.

    python bench/engines_eval.py --tables /tmp/rs/staging/eval     # claims/*.parquet below it
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import polars as pl

K_PHONE, WINDOW, MIN_CARDS, MAX_GROUP, MIN_RX, MIN_SHARE = 4, 1800, 5, 40, 15, 0.5

# ---------------------------------------------------------------- Narwhals


def nw_shared(lf):  # (A)
    import narwhals as nw

    base = lf.select("patient_phone", "pid").filter(~nw.col("patient_phone").is_null() & ~nw.col("pid").is_null())
    return base.group_by("patient_phone").agg(nw.col("pid").n_unique().alias("n")).filter(nw.col("n") >= K_PHONE)


def nw_burst(lf):  # (B)
    import narwhals as nw

    sw = lf.filter(~nw.col("card_id").is_null() & nw.col("admit_ts").is_null()).select(
        nw.concat_str([nw.col("facility_code"), nw.col("terminal_id").fill_null("")], separator=":").alias("th"),
        "card_id",
        ((nw.col("claim_ts") + 28800) // 86400).alias("day"),
        (nw.col("claim_ts") // WINDOW).alias("win"),
    )
    win = (
        sw.group_by("th", "win")
        .agg(nw.col("card_id").n_unique().alias("cards"))
        .filter((nw.col("cards") >= MIN_CARDS) & (nw.col("cards") <= MAX_GROUP))
    )
    cw = sw.join(win.select("th", "win"), on=["th", "win"], how="semi").unique(["th", "win", "day", "card_id"])
    # n_unique().over(...) is a distinct window function, which Spark refuses: a group-by and a join instead
    days = cw.group_by("th", "card_id").agg(nw.col("day").n_unique().alias("days")).filter(nw.col("days") >= 2)
    return cw.join(days, on=["th", "card_id"])


def nw_conc(lf):  # (C)
    import narwhals as nw

    rx = lf.filter((nw.col("facility_kind") == "pharmacy") & ~nw.col("doctor_code").is_null())
    c = rx.group_by("doctor_code", "facility_code").agg(nw.len().alias("n_dp"))
    c = c.with_columns(nw.col("n_dp").sum().over("doctor_code").alias("n_d"))
    return c.filter((nw.col("n_dp") >= MIN_RX) & (nw.col("n_dp") / nw.col("n_d") >= MIN_SHARE))


# ---------------------------------------------------------------- Ibis


def ib_shared(t):
    base = t.filter(t.patient_phone.notnull() & t.pid.notnull())
    g = base.group_by("patient_phone").aggregate(n=base.pid.nunique())
    return g.filter(g.n >= K_PHONE)


def ib_burst(t):

    sw = t.filter(t.card_id.notnull() & t.admit_ts.isnull()).select(
        th=t.facility_code.concat(":", t.terminal_id.fill_null("")),
        card_id=t.card_id,
        day=(t.claim_ts + 28800) // 86400,
        win=t.claim_ts // WINDOW,
    )
    win = sw.group_by("th", "win").aggregate(cards=sw.card_id.nunique())
    win = win.filter((win.cards >= MIN_CARDS) & (win.cards <= MAX_GROUP)).select("th", "win")
    cw = sw.semi_join(win, ["th", "win"]).distinct()
    days = cw.group_by("th", "card_id").aggregate(days=cw.day.nunique())
    return cw.join(days.filter(days.days >= 2), ["th", "card_id"])


def ib_conc(t):
    import ibis

    rx = t.filter((t.facility_kind == "pharmacy") & t.doctor_code.notnull())
    c = rx.group_by("doctor_code", "facility_code").aggregate(n_dp=rx.count())
    c = c.mutate(n_d=c.n_dp.sum().over(ibis.window(group_by=c.doctor_code)))
    return c.filter((c.n_dp >= MIN_RX) & (c.n_dp / c.n_d >= MIN_SHARE))


# ---------------------------------------------------------------- SQL (DuckDB dialect, transpiled by SQLGlot)

SQL = {
    "shared": f"""SELECT patient_phone, COUNT(DISTINCT pid) AS n FROM claims
      WHERE patient_phone IS NOT NULL AND pid IS NOT NULL
      GROUP BY patient_phone HAVING COUNT(DISTINCT pid) >= {K_PHONE}""",
    "burst": f"""WITH sw AS (
        SELECT facility_code || ':' || COALESCE(terminal_id, '') AS th, card_id,
               (claim_ts + 28800) // 86400 AS day, claim_ts // {WINDOW} AS win
        FROM claims WHERE card_id IS NOT NULL AND admit_ts IS NULL),
      w AS (SELECT th, win FROM sw GROUP BY th, win
            HAVING COUNT(DISTINCT card_id) BETWEEN {MIN_CARDS} AND {MAX_GROUP}),
      cw AS (SELECT DISTINCT sw.th, sw.win, sw.day, sw.card_id FROM sw JOIN w ON sw.th = w.th AND sw.win = w.win),
      cd AS (SELECT th, card_id, COUNT(DISTINCT day) AS days FROM cw GROUP BY th, card_id)
      SELECT cw.*, cd.days FROM cw JOIN cd ON cw.th = cd.th AND cw.card_id = cd.card_id WHERE cd.days >= 2""",
    "conc": f"""WITH c AS (SELECT doctor_code, facility_code, COUNT(*) AS n_dp FROM claims
        WHERE facility_kind = 'pharmacy' AND doctor_code IS NOT NULL GROUP BY doctor_code, facility_code),
      d AS (SELECT *, SUM(n_dp) OVER (PARTITION BY doctor_code) AS n_d FROM c)
      SELECT * FROM d WHERE n_dp >= {MIN_RX} AND n_dp * 1.0 / n_d >= {MIN_SHARE}""",
}


def norm(df: pl.DataFrame) -> pl.DataFrame:
    """Same columns, same types, sorted: the frames compare exactly."""
    df = df.select(sorted(df.columns))
    df = df.with_columns([pl.col(c).cast(pl.Int64) for c, t in df.schema.items() if t.is_integer()])
    return df.sort(df.columns)


def timed(fn, repeat: int = 2):
    """Best of ``repeat`` runs (the first Spark run of a plan also compiles it), or the exception."""
    best, out = float("inf"), None
    try:
        for _ in range(repeat):
            t0 = time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - t0)
    except Exception as exc:
        return exc
    return out, best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tables", type=Path, required=True)
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args()
    import ibis
    import narwhals as nw
    import sqlglot
    from pyspark.sql import SparkSession

    claims_files = str(args.tables / "claims")
    cols = [
        "claim_id",
        "pid",
        "card_id",
        "patient_phone",
        "facility_code",
        "facility_kind",
        "terminal_id",
        "doctor_code",
    ]
    cols += ["claim_ts", "admit_ts"]
    pl_lf = pl.scan_parquet(f"{claims_files}/*.parquet").select(cols)
    pl_mem = pl_lf.collect().lazy()  # what detection holds: the window in memory
    spark = (
        SparkSession.builder.master(args.master)
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    sdf = spark.read.parquet(claims_files).select(cols).cache()
    sdf.count()
    sdf.createOrReplaceTempView("claims")
    ib_pl = ibis.polars.connect({"claims": pl_mem.collect()}).table("claims")
    ib_sp = ibis.pyspark.connect(spark).table("claims")
    cores = {"shared": (nw_shared, ib_shared), "burst": (nw_burst, ib_burst), "conc": (nw_conc, ib_conc)}
    print(f"claims {pl_mem.select(pl.len()).collect().item():,}  load {os.getloadavg()[0]:.2f}")
    for name, (nwf, ibf) in cores.items():
        res = {}
        res["narwhals/polars"] = timed(lambda f=nwf: nw.from_native(f(nw.from_native(pl_mem)).to_native().collect()))
        res["narwhals/spark"] = timed(lambda f=nwf: pl.from_arrow(f(nw.from_native(sdf)).to_native().toArrow()))
        res["ibis/polars"] = timed(lambda f=ibf: pl.from_arrow(f(ib_pl).to_pyarrow()))
        res["ibis/spark"] = timed(lambda f=ibf: pl.from_arrow(f(ib_sp).to_pyarrow()))
        res["sql/polars"] = timed(
            lambda n=name: (
                pl.SQLContext(claims=pl_mem)
                .execute(sqlglot.transpile(SQL[n], read="duckdb", write="postgres")[0])
                .collect()
            )
        )
        res["sql/spark"] = timed(
            lambda n=name: pl.from_arrow(
                spark.sql(sqlglot.transpile(SQL[n], read="duckdb", write="spark")[0]).toArrow()
            )
        )
        ref = None
        for key, got in res.items():
            if isinstance(got, Exception):
                print(f"{name:7s} {key:16s} FAILS: {str(got).splitlines()[0][:150]}")
                continue
            out, secs = got
            if not isinstance(out, pl.DataFrame):
                out = out.to_native()
            out = norm(out)
            ref = out if ref is None else ref
            same = out.equals(ref)
            print(f"{name:7s} {key:16s} {secs:7.3f} s  rows {out.height:6d}  same-as-first {same}")
    spark.stop()


if __name__ == "__main__":
    main()
