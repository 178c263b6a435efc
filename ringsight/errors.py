"""Errors a user can act on.

Every failure that reaches the command line is a :class:`RingSightError`
carrying one paragraph of what happened and what to do; the CLI prints it
without a traceback and exits non-zero.
"""

from __future__ import annotations


class RingSightError(Exception):
    """A failure explained for a user: ``message`` says what, ``hint`` what to do."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class StoreUnavailable(RingSightError):
    """The graph store cannot be reached or started."""

    exit_code = 3


class StoreRestarting(StoreUnavailable):
    """The embedded store had stopped and is being restarted; try again shortly."""


class StoreAuthError(RingSightError):
    """The graph store refused the credentials."""

    exit_code = 3


class QueryError(RingSightError):
    """A query was refused or failed (syntax, read-only violation, parameters)."""

    exit_code = 4


class QueryTimeout(QueryError):
    """A query ran past its time limit."""


class QueryTooLarge(QueryError):
    """A query needed more memory than a query (or the store) may use, and was stopped."""


class InputError(RingSightError):
    """An input file cannot be used as given."""

    exit_code = 2


class ConfigError(RingSightError):
    """A setting is missing or unsafe for the way RingSight is being run."""

    exit_code = 2
