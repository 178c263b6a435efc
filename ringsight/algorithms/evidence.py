"""How evidence sentences name personal entities: by reference, never by value.

Detection reads pseudonymised tables, so a card, phone, address or patient is
known to it only by its keyed hash. A sentence names one as ``{card:<hash>}``
(:func:`entity_ref`); the UI, the CLI and the referral package render the
reference per role (``ringsight.cases.identities.render_text``): the short
pseudonym for everyone, the clear value after an audited reveal for roles
cleared to see it.
"""

from __future__ import annotations

import polars as pl

REF_KINDS = ("patient", "card", "phone", "address")


def entity_ref(kind: str, value: str | pl.Expr) -> pl.Expr:
    """``{kind:pseudonym}`` for a column (name or expression) of pseudonyms, to put inside ``pl.format``."""
    if kind not in REF_KINDS:
        raise ValueError(f"an evidence reference is one of {REF_KINDS}, not {kind!r}")
    expr = pl.col(value) if isinstance(value, str) else value
    return pl.concat_str([pl.lit("{" + kind + ":"), expr, pl.lit("}")])
