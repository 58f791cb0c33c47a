"""The office's day: Beijing time by default, whatever zone the server keeps."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from geo_tracker.core.clock import office_today
from geo_tracker.errors import InvalidValueError
from geo_tracker.services import tracking
from test_tracking import CODE, batch  # noqa: F401  (batch is a fixture used here)


def test_early_morning_in_chongqing_is_already_today_while_utc_is_yesterday():
    seven_in_the_morning = datetime(2026, 12, 3, 7, 0, tzinfo=timezone(timedelta(hours=8)))
    as_utc = seven_in_the_morning.astimezone(timezone.utc)
    assert as_utc.date() == date(2026, 12, 2)
    assert office_today(as_utc) == date(2026, 12, 3)
    assert office_today(as_utc, zone="UTC") == date(2026, 12, 2)
    assert office_today(datetime(2026, 12, 3, 16, 30, tzinfo=timezone.utc)) == date(2026, 12, 4)


def test_a_verification_dated_the_offices_today_is_taken_and_the_day_after_refused(batch, monkeypatch):  # noqa: F811
    """A phone synced at 07:00 Beijing time dates its work today, a day the server on UTC has not reached."""
    store = batch
    ahead = date.today() + timedelta(days=1)
    monkeypatch.setattr(tracking, "office_today", lambda zone=None: ahead)
    with pytest.raises(InvalidValueError, match=f"{ahead + timedelta(days=1)}.*(将来|future)"):
        tracking.verify_patch(store, CODE, "illegal", ahead + timedelta(days=1))
    tracking.verify_patch(store, CODE, "illegal", ahead)
    [verified] = [e for e in tracking.patch_history(store, CODE) if e["kind"] == "verified"]
    assert verified["occurred_on"] == ahead
