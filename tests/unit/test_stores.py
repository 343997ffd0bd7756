"""The memory store's one-round-trip helpers (`get_many`, `set_if_present`) take its lock
only when someone holds it: a free lock is not taken (no event-loop turn), a held one is
waited for (`delete_expired` awaits while iterating the store under it)."""

from __future__ import annotations

import asyncio

from litestar.stores.memory import MemoryStore

from web.platform import stores


async def test_a_free_lock_is_not_taken_and_nothing_waits() -> None:
    store = MemoryStore()
    await store.set("a", b"1", expires_in=60)
    turns = 0

    async def count_turns() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    counter = asyncio.create_task(count_turns())
    await asyncio.sleep(0)
    before = turns
    assert await stores.get_many(store, ["a", "b"]) == [b"1", None]
    assert await stores.set_if_present(store, "a", b"2", 60)
    assert not await stores.set_if_present(store, "b", b"2", 60)  # never created
    assert turns == before  # no await gave the loop away
    counter.cancel()
    assert await store.get("a") == b"2"
    assert await store.get("b") is None


async def test_a_held_lock_is_waited_for_while_delete_expired_runs() -> None:
    store = MemoryStore()
    for number in range(2500):  # delete_expired yields every 1000 keys, lock held
        await store.set(f"k{number}", b"x", expires_in=60)
    await store.set("session", b"old", expires_in=60)
    sweep = asyncio.create_task(store.delete_expired())
    await asyncio.sleep(0)  # the sweep holds the lock, suspended mid-iteration
    assert store._lock.locked()
    written = asyncio.create_task(stores.set_if_present(store, "session", b"new", 60))
    read = asyncio.create_task(stores.get_many(store, ["session"]))
    await asyncio.gather(sweep, written, read)
    assert written.result() is True
    assert read.result() in ([b"old"], [b"new"])
    assert await store.get("session") == b"new"  # not lost when the sweep swapped dicts
