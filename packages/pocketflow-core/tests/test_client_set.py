"""ClientSet: clients with small pools, made as concurrency needs them, all closed at once."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from dataclasses import dataclass

import pytest

from pocketflow.client_set import POOL_SIZE, ClientSet


@dataclass
class FakeClient:
    """Stands in for an SDK client: remembers its pool size and whether it was closed."""

    number: int
    pool_size: int
    closed: bool = False


class Maker:
    """Makes numbered FakeClients and closes them, recording both."""

    def __init__(self, fail_closing: set[int] | None = None) -> None:
        self.made: list[FakeClient] = []
        self.fail_closing = fail_closing or set()

    def make(self, size: int) -> FakeClient:
        client = FakeClient(len(self.made), size)
        self.made.append(client)
        return client

    async def close(self, client: FakeClient) -> None:
        client.closed = True
        if client.number in self.fail_closing:
            raise OSError(f"client {client.number} would not close")


def client_set(maker: Maker, max_connections: int, pool_size: int = 4) -> ClientSet[FakeClient]:
    return ClientSet(maker.make, maker.close, max_connections=max_connections, pool_size=pool_size)


def test_no_client_is_made_before_the_first_lease() -> None:
    maker = Maker()

    clients = client_set(maker, max_connections=10)

    assert maker.made == []
    assert clients.clients == []


def test_calls_fill_one_client_before_another_is_made() -> None:
    maker = Maker()
    clients = client_set(maker, max_connections=10)

    with ExitStack() as held:
        used = [held.enter_context(clients.lease()) for _ in range(5)]

        assert [client.number for client in used] == [0, 0, 0, 0, 1]
        assert clients.in_flight == [4, 1]


def test_pool_sizes_add_up_to_max_connections() -> None:
    maker = Maker()
    clients = client_set(maker, max_connections=10)

    with ExitStack() as held:
        for _ in range(10):
            held.enter_context(clients.lease())

    assert [client.pool_size for client in maker.made] == [4, 4, 2]


def test_a_freed_connection_is_reused_before_a_new_client_is_made() -> None:
    maker = Maker()
    clients = client_set(maker, max_connections=10)

    with ExitStack() as held:
        for _ in range(4):
            held.enter_context(clients.lease())
        with clients.lease() as extra:
            assert extra.number == 1
        # The second client is free again, the first full: the second takes the call.
        with clients.lease() as again:
            assert again.number == 1
    with clients.lease() as first:
        assert first.number == 0
    assert len(maker.made) == 2


def test_beyond_max_connections_the_least_loaded_client_takes_the_call() -> None:
    maker = Maker()
    clients = client_set(maker, max_connections=6)

    with ExitStack() as held:
        for _ in range(6):  # pools of 4 and 2, both full
            held.enter_context(clients.lease())
        extra = [held.enter_context(clients.lease()) for _ in range(3)]

        assert len(maker.made) == 2
        # 4/4 vs 2/2: equal, the first; 5/4 vs 2/2: the second; 5/4 vs 3/2: the first.
        assert [client.number for client in extra] == [0, 1, 0]
        assert clients.in_flight == [6, 3]


def test_a_lease_is_returned_when_the_call_fails() -> None:
    maker = Maker()
    clients = client_set(maker, max_connections=4)

    with pytest.raises(TimeoutError), clients.lease():
        raise TimeoutError("the call timed out")

    assert clients.in_flight == [0]


def test_a_lease_is_returned_when_the_call_is_cancelled() -> None:
    maker = Maker()
    clients = client_set(maker, max_connections=4)

    async def call() -> None:
        with clients.lease():
            await asyncio.sleep(10)

    async def cancel_midway() -> None:
        task = asyncio.create_task(call())
        await asyncio.sleep(0)
        assert clients.in_flight == [1]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_midway())

    assert clients.in_flight == [0]


def test_aclose_closes_every_client() -> None:
    maker = Maker()
    clients = client_set(maker, max_connections=12)
    with ExitStack() as held:
        for _ in range(12):
            held.enter_context(clients.lease())

    asyncio.run(clients.aclose())

    assert [client.closed for client in maker.made] == [True, True, True]
    assert clients.clients == []


def test_aclose_closes_the_rest_when_one_client_fails_to_close() -> None:
    maker = Maker(fail_closing={0})
    clients = client_set(maker, max_connections=8)
    with ExitStack() as held:
        for _ in range(8):
            held.enter_context(clients.lease())

    with pytest.raises(OSError, match="client 0 would not close"):
        asyncio.run(clients.aclose())

    assert [client.closed for client in maker.made] == [True, True]


def test_a_closed_set_refuses_leases() -> None:
    clients = client_set(Maker(), max_connections=4)
    asyncio.run(clients.aclose())

    with pytest.raises(RuntimeError, match="client set is closed"):
        clients.lease()


@pytest.mark.parametrize(
    ("max_connections", "pool_size", "message"),
    [
        (0, 4, "max_connections must be at least 1, not 0"),
        (4, 0, "pool_size must be at least 1, not 0"),
    ],
)
def test_sizes_below_one_are_refused(max_connections: int, pool_size: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ClientSet(Maker().make, Maker().close, max_connections=max_connections, pool_size=pool_size)


def test_the_default_pool_size_is_small() -> None:
    maker = Maker()
    clients: ClientSet[FakeClient] = ClientSet(maker.make, maker.close, max_connections=1000)

    with ExitStack() as held:
        for _ in range(1000):
            held.enter_context(clients.lease())

    sizes = [client.pool_size for client in maker.made]
    assert POOL_SIZE <= 32
    assert max(sizes) == POOL_SIZE
    assert sum(sizes) == 1000
    assert len(sizes) == -(-1000 // POOL_SIZE)
