"""Send pacing: a paced group waits on its own bucket only."""

from __future__ import annotations

import asyncio
import time

from bot.telegram.ratelimit import SendPacer


def test_a_group_over_its_pace_does_not_hold_a_private_chat():
    async def scenario() -> tuple[float, float]:
        pacer = SendPacer(group_per_minute=2, overall_per_second=1000)
        sent: list[tuple[int, float]] = []
        t0 = time.monotonic()

        async def send(chat_id: int) -> bool:
            sent.append((chat_id, time.monotonic() - t0))
            return True

        async def via_pacer(chat_id: int) -> object:
            return await pacer.process_request(
                send, (chat_id,), {}, "sendMessage", {"chat_id": chat_id}, None
            )

        group = [asyncio.create_task(via_pacer(-100)) for _ in range(3)]  # the third waits 30 s
        await asyncio.sleep(0.05)
        await via_pacer(42)
        private_at = next(t for c, t in sent if c == 42)
        groups_sent = sum(c == -100 for c, _ in sent)
        for t in group:
            t.cancel()
        return private_at, groups_sent

    private_at, groups_sent = asyncio.run(scenario())
    assert groups_sent == 2  # the group's third message is still waiting for its pace
    assert private_at < 1.0  # liveness: the private chat was not queued behind it
