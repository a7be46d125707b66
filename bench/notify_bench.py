"""Bench for the outbox: rows delivered per second to the fake WeChat beside a bare insert.

    .venv/bin/python -m bench.notify_bench [--rows 2000] [--database-url postgres://...]

Both on one database (SQLite in a temporary file by default): (1) a bare insert - the same rows
written with Tortoise's bulk_create and nothing else; (2) enqueue (the same bulk insert through
notify.service.enqueue, as a domain transaction writes them) and then relay: claim, spend the consent,
send over real HTTP to the fake WeChat on loopback, mark sent; (3) a bare send - the same number of
subscribe messages sent straight to the fake WeChat with the relay's concurrency and no database, the
ceiling of (2). Prints rows per second of each and the ratios. Rerunnable on one database (it removes
its own users, and with them their rows, first). Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from typing import cast

from core.cache import MemoryCache
from notify import catalogue, sender, service
from notify.models import Notification, State
from server import db
from wechat import WeChatClient
from wechat.fake import FakeWeChat


async def main(rows: int, url: str) -> None:
    from accounts.models import User

    await db.migrate(url)
    await db.init_db(url, pool_max=20)
    fake = FakeWeChat("wxbench", "bench-secret")
    client = WeChatClient("wxbench", "bench-secret", MemoryCache(), base_url=await fake.start())
    try:
        template = catalogue.BY_EVENT["motion.opening"].template_id
        await User.filter(openid__startswith="bench-").delete()  # a previous run's (rows cascade)
        await User.bulk_create([User(openid=f"bench-{n}") for n in range(rows)], batch_size=1000)
        users = cast(
            list[int], list(await User.filter(openid__startswith="bench-").values_list("id", flat=True))
        )
        for uid in users:
            await service.record_consent(uid, {template: "accept"}, [template])
        params = {"motion_id": 1, "title": "表决", "closes_at": datetime(2026, 12, 20, tzinfo=UTC)}
        now = datetime.now(UTC)

        started = time.perf_counter()
        await Notification.bulk_create(
            [Notification(key=f"bare:{u}", user_id=u, event="bare", template_id=template, title="t", summary="s",
                          data={}, page="p", state=State.SENT, next_attempt_at=now, created_at=now) for u in users],
            batch_size=500,
        )  # fmt: skip
        bare = rows / (time.perf_counter() - started)

        started = time.perf_counter()
        await service.enqueue("motion.opening", subject="motion:1", user_ids=users, params=params)
        enqueued = rows / (time.perf_counter() - started)
        started = time.perf_counter()
        result = await sender.relay(client)
        delivered = result.sent / (time.perf_counter() - started)
        assert result.sent == rows == len(fake.sent_messages), result

        rendered = await Notification.filter(event="motion.opening").first().values("data", "page")
        gate = asyncio.Semaphore(sender.CONCURRENCY)

        async def send(n: int) -> None:
            async with gate:
                await client.send_subscribe(openid=f"bench-{n}", template_id=template, **rendered)

        started = time.perf_counter()
        await asyncio.gather(*(send(n) for n in range(rows)))
        bare_send = rows / (time.perf_counter() - started)
        assert len(fake.sent_messages) == 2 * rows
        print(f"bare insert          {bare:8.0f} rows/s")
        print(f"enqueue (outbox)     {enqueued:8.0f} rows/s  ({enqueued / bare:.2f} of a bare insert)")
        print(f"bare send            {bare_send:8.0f} msg/s")
        print(f"relay to fake WeChat {delivered:8.0f} rows/s  ({delivered / bare:.4f} of a bare insert, "
              f"{delivered / bare_send:.2f} of a bare send)")  # fmt: skip
    finally:
        await client.aclose()
        await fake.stop()
        await db.close_db()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(args.rows, args.database_url or f"sqlite://{tmp}/bench.sqlite3"))
