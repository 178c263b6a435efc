"""Vectorised Chinese names, phone numbers and addresses."""

from __future__ import annotations

import numpy as np
import polars as pl

from ringsight.synth.ids import pick, scramble, zfill
from ringsight.synth.vocab import (
    COMPOUNDS,
    GIVEN_FEMALE,
    GIVEN_MALE,
    MOBILE_PREFIXES,
    STREETS,
    SURNAMES,
    TOWNS,
    VILLAGES,
    City,
)

_SURNAMES = list(SURNAMES)
_SURNAME_P = 1.0 / np.arange(1, len(_SURNAMES) + 1) ** 0.9
_SURNAME_P /= _SURNAME_P.sum()
_GIVEN = list(GIVEN_MALE) + list(GIVEN_FEMALE) + [""]


def person_names(male: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """A name per person: a surname (skewed like real ones) and one or two given characters by gender."""
    n = len(male)
    surname = rng.choice(len(_SURNAMES), size=n, p=_SURNAME_P)
    offset = np.where(male, 0, len(GIVEN_MALE))
    size = np.where(male, len(GIVEN_MALE), len(GIVEN_FEMALE))
    first = offset + (rng.random(n) * size).astype(np.int64)
    second = np.where(rng.random(n) < 0.7, offset + (rng.random(n) * size).astype(np.int64), len(_GIVEN) - 1)
    return pick(_SURNAMES, surname) + pick(_GIVEN, first) + pick(_GIVEN, second)


def mobile_numbers(index: np.ndarray, rng: np.random.Generator, salt: int = 0) -> pl.Series:
    """11-digit mobile numbers, distinct for distinct indices (the last 8 digits are a bijection of the index)."""
    prefix = pick(MOBILE_PREFIXES, rng.integers(0, len(MOBILE_PREFIXES), len(index)))
    return prefix + zfill(scramble(index, 8, salt=salt), 8)


def home_addresses(district: np.ndarray, index: np.ndarray, city: City, rng: np.random.Generator) -> pl.Series:
    """Street addresses (compound, building, unit, room) or village addresses, distinct per index.

    The room number is derived from the index so two households never share
    an address by accident; shared addresses are always planted on purpose.
    """
    n = len(district)
    rural = rng.random(n) < np.array([d.rural for d in city.districts])[district]
    index = np.asarray(index, np.int64)
    frame = pl.DataFrame(
        {
            "district": pick([d.name for d in city.districts], district),
            "rural": rural,
            "street": pick(STREETS, rng.integers(0, len(STREETS), n)),
            "compound": pick(COMPOUNDS, rng.integers(0, len(COMPOUNDS), n)),
            "town": pick(TOWNS, (index // len(VILLAGES)) % len(TOWNS)),
            "village": pick(VILLAGES, index % len(VILLAGES)),
            "number": rng.integers(1, 300, n),
            "building": index % 97 + 1,
            "unit": (index // 97) % 6 + 1,
            "room": index // 582 + 101,
            "house": index // (len(VILLAGES) * len(TOWNS)) + 1,
        }
    )
    urban = pl.format(
        city.name + "{}{}{}号{}{}号楼{}单元{}室", "district", "street", "number", "compound", "building", "unit", "room"
    )
    village_addr = pl.format(city.name + "{}{}镇{}村{}号", "district", "town", "village", "house")
    return frame.select(pl.when("rural").then(village_addr).otherwise(urban).alias("address")).to_series()
