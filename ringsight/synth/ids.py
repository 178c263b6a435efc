"""Identifier arithmetic: collision-free scrambled numbers, resident IDs with check characters, random streams.

Identifiers must be unique (a random collision would plant a false shared
phone or a false resold trace code) yet look random. ``scramble`` maps an
index to a number by an affine bijection modulo a power of ten, so distinct
indices always give distinct numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

_WEIGHTS = np.array((7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), dtype=np.int64)
_CHECK = np.array(list("10X98765432"))

#: Purposes of random streams; each (seed, purpose, key…) gives an independent generator.
STREAMS = {
    "facilities": 1,
    "population": 2,
    "days": 3,
    "background": 4,
    "rings": 5,
    "lookalikes": 6,
    "dirty": 7,
    "coverage": 8,
}


def rng_for(seed: int, purpose: str, *key: int) -> np.random.Generator:
    """An independent, reproducible generator for one purpose (and block)."""
    return np.random.default_rng([seed, STREAMS[purpose], *key])


def _mulmod(a: np.ndarray, b: int, mod: int) -> np.ndarray:
    """(a * b) % mod for uint64 arrays without overflow (mod < 2**44), by 16-bit limbs of a."""
    out = np.zeros(a.shape, np.uint64)
    for shift in (32, 16, 0):
        limb = (a >> np.uint64(shift)) & np.uint64(0xFFFF)
        out = (out * np.uint64(1 << 16) + limb * np.uint64(b)) % np.uint64(mod)
    return out


def scramble(index: np.ndarray, digits: int, salt: int = 0) -> np.ndarray:
    """A bijection of [0, 10**digits): distinct indices give distinct, random-looking numbers.

    Three affine rounds modulo ``10**digits`` with decimal digit rotations in
    between (each step is a bijection, so the whole is one).

    Parameters
    ----------
    index : non-negative integer array, each value below ``10**digits`` (digits <= 13)
    digits : width of the result space
    salt : selects the multipliers and offsets so different identifier kinds look unrelated
    """
    mod = 10**digits
    x = np.asarray(index, dtype=np.int64).astype(np.uint64) % np.uint64(mod)
    cut = 10 ** max(1, digits // 2 - 1)
    for round_ in range(3):
        mult = _multiplier(mod, salt * 3 + round_)
        x = (_mulmod(x, mult, mod) + np.uint64((salt * 7_919 + round_ * 104_729 + 12_345) % mod)) % np.uint64(mod)
        if round_ < 2:  # rotate the decimal digits so low-order differences reach the high digits
            x = (x % np.uint64(cut)) * np.uint64(mod // cut) + x // np.uint64(cut)
    return x.astype(np.int64)


def _multiplier(mod: int, k: int) -> int:
    """A multiplier near mod × (golden ratio fraction), coprime with 10."""
    m = int(mod * ((0.6180339887 * (k + 1)) % 1.0)) | 1
    while m % 5 == 0 or m <= 1:
        m += 2
    return m % mod if m % mod > 1 else 3


def pick(values: Sequence[str], index: np.ndarray) -> pl.Series:
    """values[index] as a string Series (gathering from a small Series beats building NumPy unicode arrays)."""
    return pl.Series(list(values), dtype=pl.String).gather(np.asarray(index, np.int64))


def zfill(values: np.ndarray, width: int) -> pl.Series:
    """Zero-padded decimal strings of an integer array."""
    return pl.Series(values, dtype=pl.Int64).cast(pl.String).str.zfill(width)


def resident_id_check(body: np.ndarray) -> np.ndarray:
    """Check characters (ISO 7064 MOD 11-2) for an array of 17-digit bodies given as int64."""
    digits = (np.asarray(body, dtype=np.int64)[:, None] // 10 ** np.arange(16, -1, -1, dtype=np.int64)) % 10
    return _CHECK[(digits * _WEIGHTS).sum(axis=1) % 11]


def resident_ids(region: np.ndarray, birth_ymd: np.ndarray, seq: np.ndarray) -> pl.Series:
    """18-character resident IDs from region codes (int), birth dates (YYYYMMDD int) and 3-digit sequence numbers."""
    body = np.asarray(region, np.int64) * 10**11 + np.asarray(birth_ymd, np.int64) * 1_000 + np.asarray(seq, np.int64)
    check = pl.Series(resident_id_check(body), dtype=pl.String)
    return zfill(body, 17) + check
