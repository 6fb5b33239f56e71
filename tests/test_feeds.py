"""feeds.steady: a followed feed's poll retried while the failure may pass; said, then resumed."""

from __future__ import annotations

import asyncio

import pytest

from testdeck import feeds
from testdeck.errors import ApiError


def _failing(errors: list[ApiError], then: str = "ok"):
    calls = []

    async def call() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return then

    return call, calls


def _error(status: int | None, retryable: bool) -> ApiError:
    return ApiError("xyops", "p", "GET", "/x", status, f"answer {status}", retryable)


async def test_retried_while_followed_and_retryable_each_failure_said(monkeypatch):
    monkeypatch.setattr(feeds, "BACKOFF", (0.01, 0.02))
    said: list[str] = []
    feeds.NOTICE.set(said.extend)
    call, calls = _failing([_error(500, True), _error(None, True), _error(503, True)])
    assert await feeds.steady(call) == "ok"
    assert len(calls) == 4
    assert [line.split(":")[0] for line in said] == ["!! poll failed, retrying in 0.01s",
                                                     "!! poll failed, retrying in 0.02s",
                                                     "!! poll failed, retrying in 0.02s"]
    assert "answer 500" in said[0]


async def test_a_failure_that_will_not_pass_ends_the_feed_at_once():
    feeds.NOTICE.set(lambda lines: None)
    call, calls = _failing([_error(404, False)])
    with pytest.raises(ApiError):
        await feeds.steady(call)
    assert len(calls) == 1


async def test_not_followed_a_failure_ends_the_feed_as_before():
    assert feeds.NOTICE.get() is None  # (each test runs in its own context)
    call, calls = _failing([_error(500, True)])
    with pytest.raises(ApiError):
        await feeds.steady(call)
    assert len(calls) == 1


async def test_a_notice_belongs_to_the_task_that_follows():
    """Two feeds followed at once (two log views): each one's notices go to its own view."""
    said_a: list[str] = []
    said_b: list[str] = []

    async def follow(said: list[str], status: int) -> None:
        feeds.NOTICE.set(said.extend)
        call, _ = _failing([_error(status, True)])
        await feeds.steady(call)

    feeds.BACKOFF, saved = (0.01,), feeds.BACKOFF
    try:
        await asyncio.gather(follow(said_a, 500), follow(said_b, 502))
    finally:
        feeds.BACKOFF = saved
    assert "answer 500" in said_a[0] and "answer 502" in said_b[0] and len(said_a) == len(said_b) == 1


async def test_a_server_failing_every_time_ends_the_feed_after_the_patience(monkeypatch):
    monkeypatch.setattr(feeds, "BACKOFF", (0.02,))
    monkeypatch.setattr(feeds, "PATIENCE", 0.1)
    said: list[str] = []
    feeds.NOTICE.set(said.extend)
    call, calls = _failing([_error(500, True) for _ in range(100)])
    with pytest.raises(ApiError):
        await feeds.steady(call)
    assert 3 <= len(calls) <= 8 and len(said) == len(calls) - 1

