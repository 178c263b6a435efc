"""One person, one place: keep background claims out of hospital stays.

Independent sampling would give about four in ten inpatients an outpatient
visit or a pharmacy purchase somewhere else during their stay — the very
"patient in two places at once" signal that reveals bed-holding and
impersonation. The background therefore moves such claims to other people:
claims that fall inside a planted stay (except the bed-holding rings', whose
point is that overlap), and stays whose patient already has a claim after the
admission, in an earlier block (``last_claim``) or in the same block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ringsight.synth.claims import INPATIENT

_KEY = np.int64(1 << 32)  # person * _KEY + epoch seconds: sortable (person, time) keys


@dataclass
class Presence:
    """Where people are known to be: the last claim of each person and the planted stays."""

    last_claim: np.ndarray
    stay_key: np.ndarray  # sorted person * _KEY + admission time of planted stays
    stay_end: np.ndarray  # discharge time, aligned with stay_key
    planted_visits: np.ndarray  # sorted person * _KEY + time of planted claims other than stays

    @classmethod
    def build(cls, n_persons: int, planted: pl.DataFrame, exempt_rows: np.ndarray) -> Presence:
        """From the planted claim spec; ``exempt_rows`` are stays that may overlap other claims on purpose."""
        stays = planted.with_row_index("_row").filter(
            (pl.col("visit") == INPATIENT) & pl.col("admit_ts").is_not_null() & ~pl.col("_row").is_in(exempt_rows)
        )
        key = stays["person"].to_numpy() * _KEY + stays["admit_ts"].to_numpy()
        order = np.argsort(key, kind="stable")
        visits = planted.filter(pl.col("visit") != INPATIENT)
        visit_keys = np.sort(visits["person"].to_numpy() * _KEY + visits["ts"].to_numpy())
        return cls(np.full(n_persons, -1, np.int64), key[order], stays["discharge_ts"].to_numpy()[order], visit_keys)

    @classmethod
    def empty(cls, n_persons: int) -> Presence:
        """Nothing planted."""
        none = np.zeros(0, np.int64)
        return cls(np.full(n_persons, -1, np.int64), none, none, none)

    def in_planted_stay(self, person: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """Whether each (person, time) falls inside one of that person's planted stays."""
        if not len(self.stay_key):
            return np.zeros(len(person), bool)
        key = person * _KEY + ts
        i = np.searchsorted(self.stay_key, key, side="right") - 1
        ok = i >= 0
        i = np.maximum(i, 0)
        return ok & (self.stay_key[i] // _KEY == person) & (ts <= self.stay_end[i])

    @staticmethod
    def keys(person: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """Sorted (person, time) keys of some claims, for :meth:`stay_clashes`."""
        return np.sort(person * _KEY + ts)

    def stay_clashes(
        self, person: np.ndarray, admit: np.ndarray, discharge: np.ndarray, others: np.ndarray
    ) -> np.ndarray:
        """Whether each stay overlaps a claim of its patient: earlier blocks, ``others`` (keys), planted claims."""
        clash = self.last_claim[person] >= admit
        for keys in (others, self.planted_visits):
            lo = np.searchsorted(keys, person * _KEY + admit, side="left")
            clash |= np.searchsorted(keys, person * _KEY + discharge, side="right") > lo
        clash |= self.in_planted_stay(person, admit) | self.in_planted_stay(person, discharge)
        # two stays of one person that overlap: the later one moves
        order = np.lexsort((admit, person))
        p, a, d = person[order], admit[order], discharge[order]
        overlap = np.r_[False, (p[1:] == p[:-1]) & (a[1:] <= d[:-1])]
        clash[order[overlap]] = True
        return clash

    def record(self, person: np.ndarray, ts: np.ndarray) -> None:
        """Remember the latest claim of each person."""
        np.maximum.at(self.last_claim, person, ts)
