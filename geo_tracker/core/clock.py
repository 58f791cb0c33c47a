"""The office's day (今天): a township works on Beijing time whatever zone the server's clock keeps.

A phone in the field dates its work by its own day; at 07:00 in 重庆 a server on UTC still
says yesterday, and must not refuse today's verification as a date in the future.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

#: The zone of the offices geo_tracker serves; another with ``GEO_TRACKER_TZ``.
OFFICE_ZONE = "Asia/Shanghai"


def office_today(now: datetime | None = None, zone: str | None = None) -> date:
    """Today in the office's zone; ``now`` (timezone-aware) and ``zone`` for callers that know them."""
    where = ZoneInfo(zone or OFFICE_ZONE)
    return (now or datetime.now(tz=where)).astimezone(where).date()
