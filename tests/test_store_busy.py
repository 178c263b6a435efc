"""A FalkorDB server that is busy forking refuses statements; the store waits for it instead of failing."""

from __future__ import annotations

import pytest
import redis

from ringsight.graph import falkordb_store


def _refused(times: int, message: str):  # type: ignore[no-untyped-def]
    calls = []

    def call() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise redis.ResponseError(message)
        return "done"

    return call, calls


def test_busy_statements_are_run_again_once_the_server_is_free() -> None:
    call, calls = _refused(3, "BUSY preparing to fork")
    assert falkordb_store._when_not_busy(call) == "done"
    assert len(calls) == 4


def test_other_errors_are_raised_at_once() -> None:
    call, calls = _refused(1, "errMsg: Invalid input 'RETURNN'")
    with pytest.raises(redis.ResponseError, match="Invalid input"):
        falkordb_store._when_not_busy(call)
    assert len(calls) == 1


def test_a_server_busy_for_too_long_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(falkordb_store, "BUSY_WAIT_S", 0.2)
    call, calls = _refused(10_000, "BUSY preparing to fork")
    with pytest.raises(redis.ResponseError, match="BUSY"):
        falkordb_store._when_not_busy(call)
    assert 2 <= len(calls) < 100
