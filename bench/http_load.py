"""A small HTTP/1.1 keep-alive load generator for bench_api.py (asyncio streams, GET only).

``load(base, token, path, clients=32, seconds=6)`` keeps ``clients``
connections busy for ``seconds``, each sending the next ``path()`` as soon as
its previous response is read; returns the count, elapsed seconds, per-request
latencies and the number of non-200 answers. It is far lighter on CPU than
httpx, which matters when client, server and PostgreSQL share two cores.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from urllib.parse import urlsplit


async def _client(host: str, port: int, token: str, path: Callable[[], str], until: float, out: dict) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    try:
        while time.perf_counter() < until:
            request = f"GET {path()} HTTP/1.1\r\nHost: {host}\r\n{auth}Accept: application/json\r\n\r\n"
            t0 = time.perf_counter()
            writer.write(request.encode())
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
            if "content-length" in headers:
                body = await reader.readexactly(int(headers["content-length"]))
            elif headers.get("transfer-encoding") == "chunked":
                body = b""
                while True:
                    size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                    body += await reader.readexactly(size + 2)
                    if size == 0:
                        break
            else:
                raise RuntimeError(f"response without length: {head!r}")
            out["latency"].append(time.perf_counter() - t0)
            out["last"] = time.perf_counter()
            if status != 200:
                out["errors"] += 1
                out["sample_error"] = f"{status} {body[:200]!r}"
            if headers.get("connection") == "close":
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    finally:
        writer.close()


async def _load(base: str, token: str, path: Callable[[], str], clients: int, seconds: float) -> dict:
    url = urlsplit(base)
    out: dict = {"latency": [], "errors": 0, "sample_error": None, "last": None}
    start = time.perf_counter()
    await asyncio.gather(*(_client(url.hostname, url.port, token, path, start + seconds, out) for _ in range(clients)))
    out["count"] = len(out["latency"])
    out["seconds"] = (out["last"] or time.perf_counter()) - start
    return out


def load(base: str, token: str, path: Callable[[], str], *, clients: int = 32, seconds: float = 6) -> dict:
    return asyncio.run(_load(base, token, path, clients, seconds))
