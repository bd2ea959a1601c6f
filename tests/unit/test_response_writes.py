"""What the API's HTTP protocol writes per response (api/protocol.py, ``_HeadWithBody``), and the
dependencies resolved in turn (api/app.py): the per-request CPU cuts of the pages bench."""

from __future__ import annotations

import asyncio

from litestar._kwargs.kwargs_model import KwargsModel

from cronkeeper.api import app as api_app
from cronkeeper.api.protocol import _HeadWithBody


class _Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info {name}"


class _Cycle:
    response_started = False


def _wrapped() -> tuple[_HeadWithBody, _Transport, _Cycle, asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    transport, cycle = _Transport(), _Cycle()
    return _HeadWithBody(transport, cycle, loop), transport, cycle, loop  # type: ignore[arg-type]


def _step(loop: asyncio.AbstractEventLoop) -> None:
    loop.run_until_complete(asyncio.sleep(0))  # one pass of the loop: its call_soon callbacks run


def test_a_whole_response_goes_out_in_one_write():
    wrapped, transport, cycle, loop = _wrapped()
    wrapped.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # before the response starts: at once
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    cycle.response_started = True
    wrapped.write(b"HEAD\r\n\r\n")
    assert len(transport.writes) == 1  # held
    wrapped.write(b"BODY")
    wrapped.write(b"MORE")  # later chunks pass as they come
    _step(loop)
    assert transport.writes[1:] == [b"HEAD\r\n\r\nBODY", b"MORE"]
    loop.close()


def test_a_head_without_a_body_in_its_step_goes_out_at_the_end_of_the_step_or_on_close():
    wrapped, transport, cycle, loop = _wrapped()
    cycle.response_started = True
    wrapped.write(b"HEAD\r\n\r\n")  # a stream waiting for its first chunk, or a HEAD answer
    _step(loop)
    assert transport.writes == [b"HEAD\r\n\r\n"]
    wrapped.write(b"CHUNK")
    assert transport.writes == [b"HEAD\r\n\r\n", b"CHUNK"]
    loop.close()

    wrapped, transport, cycle, loop = _wrapped()
    cycle.response_started = True
    wrapped.write(b"HEAD\r\n\r\n")
    wrapped.close()  # an app that fails after starting its response: the head, then the close
    assert transport.writes == [b"HEAD\r\n\r\n"] and transport.closed
    _step(loop)
    assert transport.writes == [b"HEAD\r\n\r\n"]  # not twice
    assert wrapped.get_extra_info("peername") == "info peername"  # the rest is the transport's
    loop.close()


def test_dependencies_are_resolved_in_turn_without_a_task_group():
    assert KwargsModel.resolve_dependencies is api_app._resolve_in_turn
