"""Settings: one place, read from the environment and an optional TOML file.

Precedence (highest first): explicit keyword arguments, ``RINGSIGHT_*``
environment variables (nested with ``__``, e.g. ``RINGSIGHT_QUERY__ROW_CAP``),
the TOML file named by ``RINGSIGHT_CONFIG`` (or ``./ringsight.toml`` when it
exists), then the defaults below.

The graph store is chosen by one setting, ``graph``:

- ``embedded`` (default): a FalkorDB server RingSight starts itself in
  ``data_dir``;
- ``neo4j://user:pass@host:7687/db`` or ``bolt://…``: a Neo4j 5 server;
- ``falkordb://[:password@]host:port/graph``: a FalkorDB server run elsewhere.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import platformdirs
from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEMO_ID_HASH_KEY = "ringsight-demo-key"
"""The shipped id_hash_key: public, so pseudonyms made with it can be reversed by enumerating IDs."""


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("ringsight", appauthor=False))


def _config_file() -> Path | None:
    named = os.environ.get("RINGSIGHT_CONFIG")
    if named:
        return Path(named)
    local = Path("ringsight.toml")
    return local if local.exists() else None


class QuerySettings(BaseModel):
    """Limits applied to every analyst query (library and ad hoc)."""

    timeout_ms: int = Field(30_000, ge=100, description="per-query timeout")
    row_cap: int = Field(10_000, ge=1, description="rows returned at most")


class StoreSettings(BaseModel):
    """Limits of the embedded FalkorDB server, so that no query takes it (or the machine) down."""

    max_memory_mb: int | None = Field(
        None, ge=64, description="memory cap of the whole server (redis maxmemory); default 60% of the machine's RAM"
    )
    query_memory_mb: int = Field(2048, ge=1, description="memory one query may use before it is stopped")
    timeout_max_ms: int = Field(
        600_000, ge=1_000, description="no query at all (reads, writes, loads) runs longer than this (TIMEOUT_MAX)"
    )
    restart_wait_s: float = Field(
        10.0, ge=0, description="how long a request waits for a dead embedded server to restart before 'restarting'"
    )

    def server_memory_mb(self) -> int:
        """The server's memory cap: the setting, or 60% of physical memory."""
        if self.max_memory_mb is not None:
            return self.max_memory_mb
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        return max(256, int(total * 0.6) // 2**20)


class LoadSettings(BaseModel):
    """Loader tuning."""

    batch_size: int = Field(5_000, ge=1, description="rows per UNWIND batch")
    create_batch_size: int = Field(20_000, ge=1, description="rows per UNWIND … CREATE batch (Neo4j load path)")
    write_workers: int = Field(2, ge=1, le=16, description="sessions sending node batches at once (Neo4j load path)")
    chunk_rows: int = Field(200_000, ge=1_000, description="rows read per chunk")
    bucket_claims: int = Field(
        500_000, ge=1, description="claims per hash bucket when deduplicating (bounds the loader's memory)"
    )
    max_reject_share: float = Field(
        0.5, ge=0.0, le=1.0, description="a load rejecting more than this share of its rows fails (exit 2)"
    )
    partition_buckets: int = Field(
        8,
        ge=1,
        le=256,
        description="staged tables: buckets per month, crc32(claim_id) mod this (fixed by a graph's first load)",
    )


class UiSettings(BaseModel):
    """Web UI serving options."""

    host: str = "127.0.0.1"
    port: int = 8050
    language: str = Field("zh", description="default UI language: zh or en")
    session_minutes: int = Field(480, ge=1, description="idle time before a login expires")
    secret_key: str = Field("change-me-ringsight-session-key", description="signs session cookies")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses/networks of reverse proxies whose X-Forwarded-For/-Proto headers are believed",
    )


class AppDbSettings(BaseModel):
    """The application database (accounts, sessions, login throttling, audit trail): ringsight.appdb."""

    url: str | None = Field(
        None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user:pass@host/db; "
        "default: a SQLite file per graph in <data_dir>/appdb/",
    )


class AuditSettings(BaseModel):
    """The audit trail's own signing key (never the UI secret)."""

    key: str | None = Field(
        None, description="HMAC key for the audit hash chain; default: <data_dir>/appdb/audit.key, created 0600"
    )


class CasesSettings(BaseModel):
    """Case workflow, annotations, login limits and the referral PDF (ringsight.cases)."""

    deadline_days: dict[str, int] = Field(
        default_factory=lambda: {"初审": 10, "复审": 10, "申诉": 10, "调查核实": 30, "处理": 30},
        description="calendar days allowed in each case state before it is overdue",
    )
    tags: list[str] = Field(
        default_factory=lambda: [
            "疑似聚敛刷卡",
            "疑似冒名就医",
            "疑似挂床住院",
            "疑似诱导住院",
            "疑似串换药品",
            "已约谈",
            "已整改",
            "黑名单",
            "重点监控",
            "合理共济",
            "排除",
        ],
        description="the tag vocabulary annotations may use",
    )
    login_max_failures_user: int = Field(5, ge=1, description="failed logins per user within the window")
    login_max_failures_addr: int = Field(20, ge=1, description="failed logins per remote address within the window")
    login_window_seconds: int = Field(900, ge=1, description="window (and lock-out time) for failed logins")
    font_path: str | None = Field(None, description="a TTF/OTF/TTC font with CJK glyphs for referral PDFs")
    font_index: int | None = Field(None, ge=0, description="face number inside a .ttc collection")
    bureau: str = Field("医疗保障局", description="the sending bureau named on the referral letter (移送书)")
    bureau_short: str = Field("医保", description="the bureau's short name in referral numbers")
    police: str = Field("公安局", description="the receiving public-security organ named on the referral letter")


class DetectThresholds(BaseModel):
    """When each detector raises a lead. Defaults follow the look-alikes they must ignore."""

    household_max: int = Field(5, ge=1, description="persons sharing an address or phone up to this many: a household")
    institution_min: int = Field(25, ge=2, description="residents that make an address an institution (care home)")
    card_min_persons: int = Field(3, ge=2, description="persons on one card (family mutual aid covers 2)")
    phone_min_persons: int = Field(4, ge=2, description="unrelated persons sharing a phone (own or contact)")
    burst_minutes: int = Field(30, ge=1, description="burst window at one terminal or pharmacy")
    burst_min_cards: int = Field(5, ge=2, description="distinct cards in one burst window")
    burst_min_days: int = Field(2, ge=1, description="days on which the same cards burst together")
    burst_min_cues: int = Field(3, ge=1, description="card-collecting cues (of 6) a burst group needs")
    burst_far_km: float = Field(10.0, ge=0, description="holders usually claiming this far away: 'far holders'")
    covisit_max_group: int = Field(40, ge=2, description="co-visit groups larger than this are crowds (ignored)")
    co_admit_min_group: int = Field(3, ge=2, description="patients admitted and discharged together at one facility")
    co_admit_spread_days: int = Field(
        2, ge=0, description="days apart two admissions (and two discharges) may be and still be 'together'"
    )
    co_admit_min_repeats: int = Field(2, ge=1, description="times a pair is co-admitted before it counts")
    referral_max_days: int = Field(3, ge=0, description="an outpatient visit this many days before a stay: a referral")
    referral_min_cues: int = Field(2, ge=1, description="referral cues (of 3) beside batches from one referrer")
    doctor_pharmacy_min_rx: int = Field(15, ge=1, description="a doctor's prescriptions filled at one pharmacy")
    doctor_pharmacy_min_share: float = Field(0.5, gt=0, le=1, description="share of the doctor's filled prescriptions")
    doctor_pharmacy_min_lift: float = Field(4.0, ge=1, description="share over the same-facility colleagues' share")
    doctor_pharmacy_min_km: float = Field(10.0, ge=0, description="pharmacy this far from the doctor's facility: 'far'")
    doctor_pharmacy_fill_ratio: float = Field(3.0, gt=1, description="median fill over the drug's usual fill: 'big'")
    doctor_pharmacy_min_cues: int = Field(2, ge=1, description="collusion cues (of 5) beside the concentration")
    travel_max_hours: float = Field(4.0, gt=0, description="one card at two counties closer in time than this")
    travel_day_hours: float = Field(
        10.0, ge=0, description="a later claim the same day in another county, under an impostor's phone, is a jump"
    )
    travel_far_km: float = Field(50.0, gt=0, description="a jump this far (county seats) is the 'far' cue")
    travel_fast_kmh: float = Field(40.0, gt=0, description="implied door-to-door speed of the 'fast' cue")
    travel_impossible_kmh: float = Field(300.0, gt=0, description="between prefectures, faster than a train")
    travel_min_jumps: int = Field(2, ge=1, description="jumps of one card that make the 'repeated' cue")
    travel_hub_min_cards: int = Field(3, ge=2, description="far cards from one home county at one facility: 'hub'")
    travel_min_cues: int = Field(3, ge=1, description="impersonation cues (of 7) a card needs to be a lead")
    lending_min_cues: int = Field(2, ge=1, description="card-lending cues (of 5) a card with mismatches needs")
    lending_min_days: int = Field(2, ge=1, description="days with mismatched claims of one card: 'repeated'")
    lending_min_cards: int = Field(3, ge=2, description="cards with mismatches at one facility: 'facility pattern'")
    lending_min_lift: float = Field(5.0, ge=1, description="facility's mismatch share over the window's share")
    shopping_min_pharmacies: int = Field(
        3, ge=2, description="pharmacies where one person bought the same drug (and 5x the median buyer)"
    )
    shopping_min_packs: float = Field(10, gt=0, description="and at least this many packs of it in the window")
    shopping_dear_price: float = Field(200, ge=0, description="average CNY a pack of the drugs bought so: a cue")
    shopping_min_amount: float = Field(
        10_000, ge=0, description="money (CNY) over the drugs bought beyond need: the cue every lead needs"
    )
    shopping_min_cues: int = Field(2, ge=1, description="drug-shopping cues (of 5) a buyer needs to be a lead")
    trace_min_claims: int = Field(2, ge=2, description="the same trace code settled on this many claims")
    repeat_admission_min: int = Field(4, ge=2, description="admissions of one patient by one doctor in the window")
    repeat_min_patients: int = Field(3, ge=1, description="such patients of one doctor before it is a lead")
    readmit_max_days: int = Field(3, ge=0, description="readmission within this many days, same diagnosis: a split")
    repeat_facility_min: int = Field(3, ge=2, description="admissions of one patient at one facility, any doctor")
    repeat_gap_days: int = Field(30, ge=0, description="median days from discharge to readmission of 'soon'")
    repeat_min_cues: int = Field(3, ge=1, description="repeated-admission cues (of 4) for a lead per facility")
    split_dup_min_price: float = Field(100.0, ge=0, description="unit price (CNY) of a service billed twice: 'costly'")
    split_min_cues: int = Field(1, ge=1, description="split cues (of 2) beside a costly service billed on both stays")
    basket_min_cards: int = Field(5, ge=2, description="identical item baskets on this many cards at one pharmacy")
    goods_price_gap: float = Field(0.3, gt=0, description="unit price this far (share) off the code's usual price")
    goods_min_code_lines: int = Field(30, ge=1, description="lines of a code city-wide before its price is trusted")
    goods_min_code_facilities: int = Field(8, ge=1, description="facilities selling a code before its price is trusted")
    goods_min_lines: int = Field(10, ge=1, description="off-price lines at one pharmacy before it is a candidate")
    goods_round_share: float = Field(0.8, gt=0, le=1, description="share of off-price lines at round prices: 'round'")
    goods_diag_max_share: float = Field(0.05, gt=0, le=1, description="diagnosis on fewer of the code's usual sales")
    goods_day_min_cards: float = Field(4, gt=0, description="cards on an average off-price day: 'promotion days'")
    goods_promo_max_share: float = Field(0.25, gt=0, le=1, description="off-price days at most this share of open days")
    goods_partner_share: float = Field(0.3, gt=0, le=1, description="off-price cards also at a partner shop nearby")
    goods_min_cues: int = Field(3, ge=1, description="goods-as-drugs cues (of 5) an off-price pharmacy needs")
    stay_overlap_min_claims: int = Field(1, ge=1, description="claims elsewhere during an inpatient stay")
    stay_max_items_per_day: float = Field(0.5, gt=0, description="billed lines per day of a barely treated stay")
    stay_away_min_days: int = Field(3, ge=1, description="days of a stay with claims elsewhere: 'away'")
    stay_away_min_share: float = Field(0.5, gt=0, le=1, description="share of the days inside a stay spent 'away'")
    ghost_min_persons: int = Field(6, ge=2, description="persons tied by shared contacts that make a contact group")
    ghost_min_share: float = Field(0.6, gt=0, le=1, description="share of a contact group staying at one facility")
    ghost_min_cues: int = Field(3, ge=1, description="ghost-patient cues (of 5) a contact group needs")
    min_cluster_size: int = Field(3, ge=2, description="smallest cluster (entities) put in the queue")


class DetectWeights(BaseModel):
    """Points each signal adds to a cluster's score (0–100; contributions are shown to investigators)."""

    shared_card: float = 25
    shared_phone: float = 20
    shared_address: float = 10
    contact_stays: float = 45
    burst_swiping: float = 40
    identical_baskets: float = 30
    goods_as_drugs: float = 35
    co_admission: float = 40
    doctor_pharmacy: float = 45
    impossible_travel: float = 30
    card_lending: float = 30
    drug_shopping: float = 35
    trace_code_resale: float = 45
    stay_overlap: float = 20
    shared_bed: float = 40
    repeated_admission: float = 25
    split_charges: float = 25
    recurrence: float = 30
    amount: float = 10


class DetectSparkSettings(BaseModel):
    """``ringsight detect --engine spark``: where the ported detectors' scans run (docs/engines.md)."""

    master: str = Field("local[2]", description="Spark master URL: spark://host:7077, yarn, local[N]")
    tables: str | None = Field(
        None, description="folder (or URL) holding claims/ and items/ Parquet; default: this graph's staged tables"
    )
    app_name: str = Field("ringsight-detect", description="application name shown by the cluster")
    conf: dict[str, str] = Field(
        default_factory=dict, description="extra Spark settings, e.g. spark.executor.memory = '8g'"
    )


class DetectSettings(BaseModel):
    """The weekly detection job (``ringsight detect``)."""

    engine: str = Field("polars", pattern="^(polars|spark)$", description="where ported detectors run")
    spark: DetectSparkSettings = DetectSparkSettings()

    window_days: int = Field(90, ge=1, description="claims window ending at --until (default: the latest claim)")
    algorithm: str = Field("leiden", pattern="^(leiden|louvain)$", description="community detection")
    objective: str = Field("modularity", pattern="^(modularity|cpm)$", description="Leiden quality function")
    resolution: float | None = Field(
        None, gt=0, description="None = size-aware: max(1, 30·(edges/1M)^0.75) for modularity, 0.05 for CPM"
    )
    seed: int = Field(42, description="random seed: the same data and seed give the same clusters")
    min_overlap: float = Field(0.3, gt=0, le=1, description="Jaccard overlap that keeps a cluster id across runs")
    max_clusters: int = Field(2_000, ge=1, description="clusters written per run, best first")
    min_score: float = Field(20, ge=0, le=100, description="clusters below this score are not written")
    report_top: int = Field(50, ge=1, description="clusters pictured in the run report")
    thresholds: DetectThresholds = DetectThresholds()
    weights: DetectWeights = DetectWeights()


class Settings(BaseSettings):
    """All RingSight settings."""

    model_config = SettingsConfigDict(
        env_prefix="RINGSIGHT_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    graph: str = Field("embedded", description="embedded | neo4j://… | bolt://… | falkordb://…")
    graph_name: str = Field("ringsight", description="graph (FalkorDB) or database (Neo4j) name")
    data_dir: Path = Field(default_factory=_default_data_dir)
    id_hash_key: str = Field(
        DEMO_ID_HASH_KEY,
        description="secret key of the keyed hashes (pseudonyms) of persons, cards, phones and addresses",
    )
    demo: bool = Field(False, description="demo data only: allows the default id_hash_key (RINGSIGHT_DEMO=1)")
    query: QuerySettings = QuerySettings()
    store: StoreSettings = StoreSettings()
    queries_dir: Path | None = Field(
        None, description="a bureau's own .cypher queries, added to the library (RINGSIGHT_QUERIES_DIR)"
    )
    load: LoadSettings = LoadSettings()
    ui: UiSettings = UiSettings()
    cases: CasesSettings = CasesSettings()
    appdb: AppDbSettings = AppDbSettings()
    audit: AuditSettings = AuditSettings()
    detect: DetectSettings = DetectSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    def pseudonym_key(self) -> str:
        """The id_hash_key, refused when it is the public default outside the demo.

        With the shipped key anyone can hash every possible resident ID or
        phone number and match the graph's pseudonyms, so it is only allowed
        for demo data (``ringsight demo`` or ``RINGSIGHT_DEMO=1``).
        """
        if self.id_hash_key == DEMO_ID_HASH_KEY and not self.demo:
            from ringsight.errors import ConfigError

            raise ConfigError(
                "The setting id_hash_key still has its public default value, which is allowed only for demo data.",
                "Set RINGSIGHT_ID_HASH_KEY (or id_hash_key in ringsight.toml) to a long random secret, e.g. "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`, and keep it: pseudonyms change with "
                "it. For demo data only, set RINGSIGHT_DEMO=1.",
            )
        if len(self.id_hash_key) < 16:
            from ringsight.errors import ConfigError

            raise ConfigError(
                f"The setting id_hash_key is {len(self.id_hash_key)} characters long; at least 16 are needed.",
                "Set RINGSIGHT_ID_HASH_KEY to a long random secret.",
            )
        return self.id_hash_key

    @property
    def graph_display(self) -> str:
        """The graph setting with any password replaced by ``***`` (safe to print)."""
        return redact_url(self.graph)


def redact_url(url: str) -> str:
    """Hide the password in a ``scheme://user:pass@host`` URL."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
