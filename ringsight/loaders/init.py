"""``ringsight profile init``: a first profile drafted from an export's headers and a sample of rows.

Every line is a guess for a person to check, so every line says why it was
guessed: the header that looks most like each canonical column (by words
and aliases, :mod:`ringsight.loaders.similarity`), the date format that
reads the most sampled values when the built-in spellings do not, and a
person id type of ``other`` when the sampled ids are not resident IDs.
Columns nothing resembles are left as comments, required ones marked.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from ringsight.loaders import normalise as nz
from ringsight.loaders.profiles import canonical_profile, map_headers
from ringsight.loaders.readers import iter_chunks, open_source
from ringsight.loaders.shape import DATE_COLUMNS, DATETIME_COLUMNS
from ringsight.loaders.similarity import best_header

CANDIDATE_FORMATS: tuple[str, ...] = (
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y/%m/%d %H:%M:%S",
    "%d-%b-%Y",
    "%b %d %Y",
    "%Y-%m-%dT%H:%M:%S%.f",
)
_VOCAB_HINT = {
    "visit_type": "outpatient | inpatient | pharmacy",
    "patient_id_type": "resident_id | passport | other",
    "insurance_type": "employee | resident | maternity",
}


def _q(text: str) -> str:
    """A TOML basic string."""
    return json.dumps(str(text), ensure_ascii=False)


def guess_format(values: pl.Series) -> tuple[str | None, float]:
    """The date format reading the largest share of sampled values, when the built-in spellings read < 95%."""
    values = values.drop_nulls().str.strip_chars()
    values = values.filter(values != "")
    if values.len() == 0:
        return None, 1.0
    builtin = float(nz.epoch_series(values).is_not_null().mean() or 0.0)
    if builtin >= 0.95:
        return None, builtin
    best, best_share = None, builtin
    frame = values.to_frame("v")
    for fmt in CANDIDATE_FORMATS:
        parsed = frame.select(pl.col("v").str.to_datetime(fmt, strict=False, time_unit="us")).to_series()
        share = float(parsed.is_not_null().mean() or 0.0)
        if share > best_share:
            best, best_share = fmt, share
    return best, best_share


def draft_profile(path: Path, *, kind: str = "claims", sample: int = 2_000) -> str:
    """The text of a starting profile for ``path`` (claims or items), with a comment on every guess."""
    profile = canonical_profile()
    table = profile.claims if kind == "claims" else profile.items
    source = open_source(Path(path))
    headers = list(source.headers)
    rows = next(iter_chunks(source, max(sample, 1000)), pl.DataFrame()).head(sample)
    known = map_headers(headers, table).mapped  # headers the built-in aliases already understand
    lines = [
        f"# Profile drafted by `ringsight profile init` from {Path(path).name}: every line is a guess — check it,",
        f"# then run `ringsight profile check {Path(path).name} --profile THIS.toml`. Layout: docs/claims-format.md.",
        f"name = {_q(Path(path).stem)}",
        "",
        f"[{kind}.columns]",
    ]
    chosen: dict[str, str] = {}
    for canonical, aliases in table.columns.items():
        required = " (required)" if canonical in table.required else ""
        if canonical in known:
            lines.append(f"# {canonical} = {_q(known[canonical])}  # already understood: canonical name or alias")
            chosen[canonical] = known[canonical]
            continue
        header, score = best_header(canonical, aliases, headers)
        if header is None:
            lines.append(f'# {canonical} = ""  # no similar header{required}')
        else:
            lines.append(f"{canonical} = {_q(header)}  # guessed from the header's words (score {score:.2f}){required}")
            chosen[canonical] = header
    formats: dict[str, tuple[str | None, float]] = {}
    for canonical in (*DATETIME_COLUMNS, *DATE_COLUMNS):
        header = chosen.get(canonical)
        if header is not None and header in rows.columns:
            formats[canonical] = guess_format(rows.get_column(header).cast(pl.String))
    wanted = sorted({f for f, _ in formats.values() if f})
    lines += ["", f"[{kind}]"]
    if wanted:
        shares = ", ".join(f"{c} {s:.0%}" for c, (f, s) in formats.items() if f)
        lines.append(f"date_formats = {json.dumps(wanted)}  # read the sampled dates: {shares}")
    else:
        lines.append('# date_formats = ["%m/%d/%Y"]  # the built-in spellings read the sampled dates')
    if kind == "claims":
        lines += ["", "[claims.constants]  # one value for every row, when the file has no such column"]
        for canonical in ("visit_type", "patient_id_type"):
            if canonical in chosen:
                continue
            value, why = _constant_guess(canonical, chosen, rows)
            prefix = "" if value else "# "
            lines.append(f"{prefix}{canonical} = {_q(value or '')}  # {why}; one of {_VOCAB_HINT[canonical]}")
    lines += [
        "",
        f"# [{kind}.derived]  # columns computed from others: concat, slice, date, map, coalesce",
        '# patient_address = {concat = ["State", "County"], sep = "-"}',
        "",
        f"# [[{kind}.join]]  # another file joined by a key, e.g. a beneficiary table",
        '# name = "beneficiary"',
        '# file = "beneficiary.csv"',
        '# on = "BeneID"',
        "",
    ]
    return "\n".join(lines)


def _constant_guess(canonical: str, chosen: dict[str, str], rows: pl.DataFrame) -> tuple[str | None, str]:
    """A constant worth proposing, and why (or None and what to decide)."""
    if canonical == "visit_type":
        if any(c in chosen for c in ("admit_time", "discharge_time")):
            return None, "the file has admission dates: inpatient claims? required, set it or map a column"
        return None, "required: set it or map a column"
    header = chosen.get("patient_id")
    if header is None or header not in rows.columns:
        return None, "set it when persons are not identified by resident IDs"
    ids = rows.get_column(header).cast(pl.String).drop_nulls()
    if ids.len() == 0:
        return None, "no sampled id"
    ok = float(ids.to_frame("v").select(nz.resident_id_ok(pl.col("v").str.to_uppercase())).to_series().mean() or 0)
    if ok < 0.5:
        return "other", f"only {ok:.0%} of the sampled {_q(header)} values are resident IDs"
    return None, f"{ok:.0%} of the sampled {_q(header)} values are resident IDs"
