"""A collector's clients (``collectors.hub.Clients``): one connection each, requests to an idle one."""

import asyncio

from cronkeeper.collectors import hub
from cronkeeper.collectors.hub import Clients


class FakeClient:
    def __init__(self, name: str) -> None:
        self.name = name
        self.release = asyncio.Event()

    async def send(self, request, **kwargs):
        await self.release.wait()
        return self.name


def test_a_collector_gets_one_single_connection_client_per_allowed_call():
    assert hub._shards(5) == [1, 1, 1, 1, 1]
    clients = Clients(3)
    assert len(clients.clients) == 3
    assert all(c._transport._pool._max_connections == 1 for c in clients.clients)
    asyncio.run(clients.aclose())


def test_requests_go_to_idle_clients_the_last_used_first():
    async def scenario():
        clients = Clients(1)
        clients.clients = [FakeClient(n) for n in "abc"]
        clients.busy = [0, 0, 0]
        clients._idle = [2, 1, 0]
        first = asyncio.ensure_future(clients.send(None))
        second = asyncio.ensure_future(clients.send(None))
        await asyncio.sleep(0)
        assert clients.busy == [1, 1, 0]  # each on an idle client of its own
        clients.clients[1].release.set()
        assert await second == "b"
        clients.clients[1].release.clear()
        third = asyncio.ensure_future(clients.send(None))
        await asyncio.sleep(0)
        assert clients.busy == [1, 1, 0]  # b again: idle, and its connection is the warm one
        clients.clients[0].release.set()
        clients.clients[1].release.set()
        assert (await first, await third) == ("a", "b")
        assert clients.busy == [0, 0, 0] and sorted(clients._idle) == [0, 1, 2]

    asyncio.run(scenario())


def test_with_every_client_busy_a_request_goes_to_the_least_busy():
    async def scenario():
        clients = Clients(1)
        clients.clients = [FakeClient(n) for n in "ab"]
        clients.busy = [2, 1]
        clients._idle = []
        task = asyncio.ensure_future(clients.send(None))
        await asyncio.sleep(0)
        assert clients.busy == [2, 2]
        clients.clients[1].release.set()
        assert await task == "b"

    asyncio.run(scenario())
