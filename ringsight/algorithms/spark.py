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
from pathlib import Path
from typing import Any

import polars as pl

from ringsight.algorithms.engine import Source, spark_source
from ringsight.algorithms.frames import DETECT_CLAIM_COLUMNS, DETECT_ITEM_COLUMNS
from ringsight.config import DetectSparkSettings
from ringsight.errors import RingSightError
from ringsight.partitions import BUCKET, MONTH, flat_files, is_remote, partition_files, window_months
from ringsight.tables import CLAIMS_SCHEMA, ITEMS_SCHEMA


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

    The partitioned layout (``month=YYYY-MM/bucket=NN/``, :mod:`ringsight.partitions`) is read with a
    filter on ``month``, so Spark prunes every partition outside the window's months before listing
    their files' contents; the schema is given (not inferred from some file), and only the columns
    detection uses are read. Flat ``*.parquet`` files an earlier version staged are read beside them
    (local folders). The window filter is the one :func:`ringsight.algorithms.frames.load_window` applies.
    """
    from pyspark.sql import functions as F

    months = window_months(since_ts, until_ts)
    frame = _read_table(session, tables, "claims", months, _ddl(CLAIMS_SCHEMA, DETECT_CLAIM_COLUMNS))
    frame = frame.select(*DETECT_CLAIM_COLUMNS).where((F.col("claim_ts") >= since_ts) & (F.col("claim_ts") < until_ts))
    return spark_source(frame, read_items(session, tables, frame, months))


def read_items(session: Any, tables: str, claims: Any, months: list[str]) -> Any:
    """The items under ``tables``/items of the window's ``claims`` (pruned to ``months``, then a semi-join).

    Items are filed under their claim's month, so the same pruning applies. No items folder (a
    bureau without line items) reads as no items, like ``load_window``.
    """
    ddl = _ddl(ITEMS_SCHEMA, DETECT_ITEM_COLUMNS)
    local = not is_remote(tables)
    if local and not Path(f"{tables.rstrip('/')}/items").is_dir():
        items = session.createDataFrame([], ddl)
    else:
        from pyspark.errors import AnalysisException

        try:
            items = _read_table(session, tables, "items", months, ddl).select(*DETECT_ITEM_COLUMNS)
        except AnalysisException as exc:  # a URL without an items folder
            if "PATH_NOT_FOUND" not in str(exc) and "UNABLE_TO_INFER_SCHEMA" not in str(exc):
                raise
            items = session.createDataFrame([], ddl)
    return items.join(claims.select("claim_id"), on="claim_id", how="left_semi")


def _read_table(session: Any, tables: str, name: str, months: list[str], ddl: str) -> Any:
    """One staged table: its window months' partitions, plus flat files of an earlier layout (local only)."""
    from pyspark.sql import functions as F

    root = f"{tables.rstrip('/')}/{name}"
    local = not is_remote(tables)
    parts = []
    if not local or partition_files(Path(root), months):
        try:
            hive = (
                session.read.schema(f"{ddl}, `{MONTH}` STRING, `{BUCKET}` INT")
                .option("basePath", root)
                .option("pathGlobFilter", "*.parquet")
                .parquet(f"{root}/{MONTH}=*/{BUCKET}=*")
                .where(F.col(MONTH).isin(months))
            )
            parts.append(hive.drop(MONTH, BUCKET))
        except Exception:  # a URL without partitions (the glob matches nothing): read it flat below
            if local:
                raise
    flat = flat_files(Path(root)) if local else []
    if flat:
        parts.append(session.read.schema(ddl).parquet(*map(str, flat)))
    elif not local and not parts:
        parts.append(session.read.schema(ddl).option("pathGlobFilter", "*.parquet").parquet(root))
    if not parts:  # nothing staged in the window's months: an empty frame with the columns
        parts.append(session.createDataFrame([], ddl))
    frame = parts[0]
    for more in parts[1:]:
        frame = frame.unionByName(more)
    return frame


_SPARK_TYPES = {pl.String: "STRING", pl.Int64: "BIGINT", pl.Float64: "DOUBLE", pl.Int32: "INT"}


def _ddl(schema: dict[str, Any], columns: tuple[str, ...] | list[str]) -> str:
    """The Spark schema of the staged columns detection reads (text lists become ARRAY<STRING>)."""

    def spark_type(dtype: Any) -> str:
        return "ARRAY<STRING>" if isinstance(dtype, pl.List) else _SPARK_TYPES[dtype]

    return ", ".join(f"`{c}` {spark_type(schema[c])}" for c in columns)
