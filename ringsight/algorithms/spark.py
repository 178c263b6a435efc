"""The Spark side of ``ringsight detect --engine spark``: a session, and the window's claims on it.

Why here and not in every detector: a detector sees only a
:class:`~ringsight.algorithms.engine.Source`; this module is the one place
that knows Spark exists (session settings, how the staged Parquet is read,
the window filter). PySpark is imported lazily, so the single-machine install
never needs Java.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from ringsight.algorithms.engine import Source, spark_source
from ringsight.algorithms.frames import DETECT_CLAIM_COLUMNS, DETECT_ITEM_COLUMNS
from ringsight.config import DetectSparkSettings
from ringsight.errors import RingSightError


class SparkUnavailable(RingSightError):
    """``--engine spark`` was asked for but PySpark or a Java runtime is missing."""

    exit_code = 2


def open_session(cfg: DetectSparkSettings) -> Any:
    """A Spark session on ``cfg.master`` (created, or the running one reused with its settings)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkUnavailable(
            "--engine spark needs PySpark, which is not installed.",
            "Install it with `pip install 'ringsight[spark]'` (and a Java 17 runtime).",
        ) from exc
    if shutil.which("java") is None and not _java_home():
        raise SparkUnavailable(
            "--engine spark needs a Java runtime (java was not found on PATH and JAVA_HOME is not set).",
            "Install Java 17, e.g. `apt-get install default-jre-headless`.",
        )
    builder = (
        SparkSession.builder.master(cfg.master)
        .appName(cfg.app_name)
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "Asia/Shanghai")
    )
    for key, value in cfg.conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _java_home() -> bool:
    home = os.environ.get("JAVA_HOME")
    return bool(home) and os.path.exists(os.path.join(home, "bin", "java"))


def read_claims(session: Any, tables: str, since_ts: int, until_ts: int) -> Source:
    """The staged claims of ``[since_ts, until_ts)`` under ``tables``/claims, and their items, as a Spark Source.

    Only ``*.parquet`` files are read (the loader's temporary files are not), and only the columns
    detection uses; the window filter is the one :func:`ringsight.algorithms.frames.load_window` applies.
    """
    from pyspark.sql import functions as F

    frame = (
        session.read.option("pathGlobFilter", "*.parquet")
        .parquet(f"{tables.rstrip('/')}/claims")
        .select(*DETECT_CLAIM_COLUMNS)
        .where((F.col("claim_ts") >= since_ts) & (F.col("claim_ts") < until_ts))
    )
    return spark_source(frame, read_items(session, tables, frame))


#: The staged items' detection columns as Spark reads them (``ringsight.tables.ITEMS_SCHEMA``).
_ITEMS_DDL = "claim_id STRING, item_code STRING, item_category STRING, quantity DOUBLE, amount DOUBLE, " + (
    "trace_codes ARRAY<STRING>"
)


def read_items(session: Any, tables: str, claims: Any) -> Any:
    """The items under ``tables``/items of the window's ``claims`` (a semi-join on claim_id, as on Polars).

    No items folder (a bureau without line items) reads as no items, like ``load_window``.
    """
    from pyspark.errors import AnalysisException

    try:
        items = session.read.option("pathGlobFilter", "*.parquet").parquet(f"{tables.rstrip('/')}/items")
        items = items.select(*DETECT_ITEM_COLUMNS)
    except AnalysisException as exc:
        if "PATH_NOT_FOUND" not in str(exc) and "UNABLE_TO_INFER_SCHEMA" not in str(exc):
            raise
        items = session.createDataFrame([], _ITEMS_DDL)
    return items.join(claims.select("claim_id"), on="claim_id", how="left_semi")
