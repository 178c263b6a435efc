"""Diagnoses a card holder cannot have: the sex- and age-specific ICD-10 blocks ``card_lending`` checks.

Why a short list: the ICD-10 tabular list marks some blocks as applying to
one sex only (pregnancy, childbirth and the puerperium O00–O99; diseases of
the male and the female genital organs; cancers of those organs) or to an age
(conditions originating in the perinatal period P00–P96), and claims-editing
tables (the CMS/NCCI "sex conflict" and "age conflict" edits, the NHSA
medical-insurance coding checks) build on those notes. This module keeps
only blocks where a contradiction is unambiguous — it is not a full edit
table, and it leaves out codes a person of the other sex or another age can
genuinely carry (Z31 procreative management, breast disease, a late birth at
50). A claim whose diagnosis, sex or birth cohort is absent never mismatches.

- female only: O00–O99, Z32–Z39, N70–N98, C51–C58, D25–D28;
- male only: N40–N51, C60–C63;
- age: pregnancy and childbirth (O00–O99, Z33–Z37) under 12 or over 55;
  perinatal P00–P96 over 5; dementia F00–F03 and G30, and senile cataract
  H25, under 40; benign prostatic hyperplasia N40 under 30.

A diagnosis code is normalised before it is matched (``o80.0``, ``O80``,
``N40.X00`` and ``O80.000`` alike): upper-cased, and its first letter and two
digits decide the block. Ages come from the five-year birth cohort
(``1955-1959``), never from a birth date: a claim counts only when *every*
birth date in the cohort contradicts it (under N: even someone born on the
cohort's first day is under N; over N: even someone born on its last day has
completed more than N years), so a cohort straddling the limit never
mismatches.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

#: (first block, last block, sex the diagnosis needs, youngest age, oldest age): ages in completed years.
RULES: tuple[tuple[str, str, str | None, float | None, float | None], ...] = (
    ("O00", "O99", "F", 12, 55),  # pregnancy, childbirth and the puerperium
    ("Z32", "Z39", "F", None, None),  # pregnancy test, supervision, delivery, postpartum care
    ("Z33", "Z37", "F", 12, 55),  # pregnant state, supervision of pregnancy, outcome of delivery
    ("N70", "N98", "F", None, None),  # female pelvic organs and genital tract
    ("C51", "C58", "F", None, None),  # cancers of the female genital organs
    ("D25", "D28", "F", None, None),  # uterine leiomyoma, benign tumours of female genital organs
    ("N40", "N51", "M", None, None),  # male genital organs
    ("C60", "C63", "M", None, None),  # cancers of the male genital organs
    ("N40", "N40", "M", 30, None),  # benign prostatic hyperplasia
    ("P00", "P96", None, None, 5),  # conditions originating in the perinatal period
    ("F00", "F03", None, 40, None),  # dementia
    ("G30", "G30", None, 40, None),  # Alzheimer's disease
    ("H25", "H25", None, 40, None),  # senile cataract
)

#: Seconds in a mean Gregorian year: ages are told apart by months, not by this rounding.
YEAR = 365.2425 * 86_400


def block(code: pl.Expr) -> pl.Expr:
    """The ICD-10 block of a diagnosis code (``o80.0`` → ``O80``); null unless it opens with a letter and 2 digits."""
    return code.cast(pl.String).str.strip_chars().str.to_uppercase().str.extract(r"^([A-Z][0-9]{2})", 1)


def diagnosis_rules(codes: pl.Series) -> pl.DataFrame:
    """Per distinct diagnosis code that some rule covers: the sex it needs and the ages it allows.

    Columns: ``diagnosis_code`` (as given), ``need_sex`` (F, M or null), ``min_age`` and
    ``max_age`` (completed years, null when unbounded). Codes no rule covers are left out.
    """
    frame = pl.DataFrame({"diagnosis_code": codes.cast(pl.String)}).drop_nulls().unique()
    frame = frame.with_columns(block(pl.col("diagnosis_code")).alias("_block"))
    parts = [
        frame.filter(pl.col("_block").is_between(pl.lit(lo), pl.lit(hi))).with_columns(
            pl.lit(sex, dtype=pl.String).alias("need_sex"),
            pl.lit(young, dtype=pl.Float64).alias("min_age"),
            pl.lit(old, dtype=pl.Float64).alias("max_age"),
        )
        for lo, hi, sex, young, old in RULES
    ]
    return (
        pl.concat(parts)
        .group_by("diagnosis_code")
        .agg(pl.col("need_sex").drop_nulls().first(), pl.col("min_age").max(), pl.col("max_age").min())
        .sort("diagnosis_code")
    )


def cohort_bounds(cohorts: pl.Series) -> pl.DataFrame:
    """Per distinct birth cohort (``1955-1959``, ``1955–1959``, ``1955``): the epoch seconds its births span.

    ``born_from`` is 1 January of the first year, ``born_until`` 1 January after the last year
    (Asia/Shanghai). A cohort without a four-digit year is left out (it never mismatches).
    """
    frame = pl.DataFrame({"birth_cohort": cohorts.cast(pl.String)}).drop_nulls().unique()
    years = pl.col("birth_cohort").str.extract_all(r"(1[89]|20)[0-9]{2}")
    frame = frame.with_columns(
        years.list.first().cast(pl.Int32).alias("_lo"), years.list.last().cast(pl.Int32).alias("_hi")
    ).drop_nulls("_lo")

    def jan_first(year: pl.Expr) -> pl.Expr:
        return pl.datetime(year, 1, 1, time_zone="Asia/Shanghai").dt.epoch("s")

    return frame.select(
        "birth_cohort",
        jan_first(pl.min_horizontal("_lo", "_hi")).alias("born_from"),
        jan_first(pl.max_horizontal("_lo", "_hi") + 1).alias("born_until"),
    ).sort("birth_cohort")


def sex(col: str = "patient_gender") -> nw.Expr:
    """The holder's sex as F or M (``F``, ``f``, ``女`` / ``M``, ``m``, ``男``), else null; on Narwhals."""
    g = nw.col(col).cast(nw.String).str.strip_chars().str.to_uppercase()
    return nw.when(g.is_in(["F", "女"])).then(nw.lit("F")).otherwise(nw.when(g.is_in(["M", "男"])).then(nw.lit("M")))


def mismatch(ts: str = "claim_ts") -> nw.Expr:
    """True on a claim whose diagnosis contradicts its holder's sex or (every age of the) cohort; on Narwhals.

    Reads the columns :func:`diagnosis_rules` and :func:`cohort_bounds` add (``need_sex``, ``min_age``,
    ``max_age``, ``born_from``, ``born_until``) and ``patient_gender``; anything absent counts as no
    contradiction.
    """
    return (sex_conflict() | too_young(ts) | too_old(ts)).fill_null(False)


def sex_conflict() -> nw.Expr:
    """The diagnosis needs one sex and the holder is of the other."""
    needed = nw.col("need_sex")
    return (~needed.is_null() & ~sex().is_null() & (sex() != needed)).fill_null(False)


def too_young(ts: str = "claim_ts") -> nw.Expr:
    """Even the cohort's oldest (born on its first day) has completed fewer than ``min_age`` years."""
    oldest = (nw.col(ts) - nw.col("born_from")) / YEAR
    return (~nw.col("min_age").is_null() & ~nw.col("born_from").is_null() & (oldest < nw.col("min_age"))).fill_null(
        False
    )


def too_old(ts: str = "claim_ts") -> nw.Expr:
    """Even the cohort's youngest (born on its last day) has completed more than ``max_age`` years."""
    youngest = (nw.col(ts) - nw.col("born_until")) / YEAR
    return (
        ~nw.col("max_age").is_null() & ~nw.col("born_until").is_null() & (youngest >= nw.col("max_age") + 1)
    ).fill_null(False)


def reason() -> nw.Expr:
    """``sex`` or ``age``: which rule a mismatched claim broke (sex first)."""
    return nw.when(sex_conflict()).then(nw.lit("sex")).otherwise(nw.lit("age"))


def ruled(claims: nw.LazyFrame[Any], rules: nw.LazyFrame[Any], bounds: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """The claims whose diagnosis a rule covers, with the rule's columns and their cohort's bounds."""
    return claims.join(rules, on="diagnosis_code", how="inner").join(bounds, on="birth_cohort", how="left")
