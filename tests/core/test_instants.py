"""Instants compare as instants on both databases, whatever offset they were written with.

SQLite compares its text timestamps as text: a payment at 00:09 Beijing written with "+08:00" and a day's
range computed in Beijing time once disagreed with rows written in UTC (a reconciliation that ran just
after midnight Beijing time missed that day's payment)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from accounts.models import User
from core import clock


async def test_a_beijing_day_range_finds_rows_written_in_either_offset(clean_db: None) -> None:
    just_after_midnight = datetime(2026, 12, 2, 0, 9, 15, tzinfo=clock.SHANGHAI)  # 16:09:15 UTC on the 1st
    late_the_day_before = datetime(2026, 12, 1, 23, 50, tzinfo=clock.SHANGHAI)  # 15:50 UTC
    in_utc = await User.create(openid="utc", last_login_at=just_after_midnight.astimezone(UTC))
    in_beijing = await User.create(openid="beijing", last_login_at=just_after_midnight + timedelta(minutes=1))
    before = await User.create(openid="before", last_login_at=late_the_day_before)
    on_the_hour = await User.create(openid="hour", last_login_at=datetime(2026, 12, 1, 16, tzinfo=UTC))

    since = datetime(2026, 12, 2, tzinfo=clock.SHANGHAI)
    found = await User.filter(last_login_at__gte=since, last_login_at__lt=since + timedelta(days=1))
    assert {u.id for u in found} == {in_utc.id, in_beijing.id, on_the_hour.id}
    assert not await User.filter(id=before.id, last_login_at__gte=since).exists()

    ordered = await User.all().order_by("last_login_at").values_list("openid", flat=True)
    assert ordered == ["before", "hour", "utc", "beijing"]
    back = await User.get(id=in_utc.id)
    assert back.last_login_at == just_after_midnight and back.last_login_at.tzinfo is not None
