"""Vectorised Chinese names, phone numbers and addresses."""

from __future__ import annotations

import numpy as np
import polars as pl

from ringsight.synth.ids import scramble, zfill
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

_SURNAMES = np.array(list(SURNAMES))
_SURNAME_P = 1.0 / np.arange(1, len(_SURNAMES) + 1) ** 0.9
_SURNAME_P /= _SURNAME_P.sum()
_MALE = np.array(list(GIVEN_MALE))
_FEMALE = np.array(list(GIVEN_FEMALE))


def person_names(male: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """A name per person: a surname (skewed like real ones) and one or two given characters by gender."""
    n = len(male)
    surname = _SURNAMES[rng.choice(len(_SURNAMES), size=n, p=_SURNAME_P)]
    first = np.where(male, _MALE[rng.integers(0, len(_MALE), n)], _FEMALE[rng.integers(0, len(_FEMALE), n)])
    second = np.where(male, _MALE[rng.integers(0, len(_MALE), n)], _FEMALE[rng.integers(0, len(_FEMALE), n)])
    second = np.where(rng.random(n) < 0.7, second, "")
    return pl.Series(surname) + pl.Series(first) + pl.Series(second)


def mobile_numbers(index: np.ndarray, rng: np.random.Generator, salt: int = 0) -> pl.Series:
    """11-digit mobile numbers, distinct for distinct indices (the last 8 digits are a bijection of the index)."""
    prefix = np.array(MOBILE_PREFIXES)[rng.integers(0, len(MOBILE_PREFIXES), len(index))]
    return pl.Series(prefix) + zfill(scramble(index, 8, salt=salt), 8)


def home_addresses(district: np.ndarray, index: np.ndarray, city: City, rng: np.random.Generator) -> pl.Series:
    """Street addresses (compound, building, unit, room) or village addresses, distinct per index.

    The room number is derived from the index so two households never share
    an address by accident; shared addresses are always planted on purpose.
    """
    n = len(district)
    dnames = np.array([d.name for d in city.districts])[district]
    rural = rng.random(n) < np.array([d.rural for d in city.districts])[district]
    street = np.array(STREETS)[rng.integers(0, len(STREETS), n)]
    compound = np.array(COMPOUNDS)[rng.integers(0, len(COMPOUNDS), n)]
    index = np.asarray(index, np.int64)
    village = np.array(VILLAGES)[index % len(VILLAGES)]
    town = np.array(TOWNS)[(index // len(VILLAGES)) % len(TOWNS)]
    building = index % 97 + 1
    unit = (index // 97) % 6 + 1
    room = index // 582 + 101
    number = rng.integers(1, 300, n)
    frame = pl.DataFrame(
        {
            "city": [city.name] * n,
            "district": dnames,
            "rural": rural,
            "street": street,
            "compound": compound,
            "town": town,
            "village": village,
            "number": number,
            "building": building,
            "unit": unit,
            "room": room,
            "index": index,
        }
    )
    urban = pl.format("{}{}{}{}号{}{}号楼{}单元{}室", "city", "district", "street", "number", "compound",
                      "building", "unit", "room")
    house = pl.col("index") // (len(VILLAGES) * len(TOWNS)) + 1
    village_addr = pl.format("{}{}{}镇{}村{}号", "city", "district", "town", "village", house)
    return frame.select(pl.when("rural").then(village_addr).otherwise(urban).alias("address")).to_series()
