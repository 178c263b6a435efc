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
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import platformdirs
from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


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


class LoadSettings(BaseModel):
    """Loader tuning."""

    batch_size: int = Field(5_000, ge=1, description="rows per UNWIND batch")
    chunk_rows: int = Field(200_000, ge=1_000, description="rows read per chunk")


class UiSettings(BaseModel):
    """Web UI serving options."""

    host: str = "127.0.0.1"
    port: int = 8050
    language: str = Field("zh", description="default UI language: zh or en")
    session_minutes: int = Field(480, ge=1, description="idle time before a login expires")
    secret_key: str = Field("change-me-ringsight-session-key", description="signs session cookies")


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
        "ringsight-demo-key",
        description="secret key for the keyed hash that pseudonymises person IDs",
    )
    query: QuerySettings = QuerySettings()
    load: LoadSettings = LoadSettings()
    ui: UiSettings = UiSettings()
    cases: CasesSettings = CasesSettings()
    detect: dict[str, Any] = Field(default_factory=dict, description="detection overrides")

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
