"""A tiny TCP proxy that can freeze: stop forwarding bytes without closing anything.

A frozen connection is what a paused process, a hung network path or a
stalled peer looks like from the other end: the socket stays open, the
kernel acknowledges what is sent, and nothing arrives. ``FreezeProxy`` forwards
between its clients and ``upstream`` until ``freeze()`` (or until a client
sends bytes containing ``freeze_on``, which are still forwarded: the server
acts on them, its answer is held). ``thaw()`` forwards again; ``close()``
closes every socket.

    with FreezeProxy("127.0.0.1", 5432) as proxy:
        dsn = proxy.dsn(original_dsn)
"""

from __future__ import annotations

import socket
import threading
import time

from psycopg.conninfo import conninfo_to_dict, make_conninfo


class FreezeProxy:
    def __init__(self, host: str, port: int, *, freeze_on: bytes | None = None) -> None:
        self.upstream = (host, port)
        self.freeze_on = freeze_on
        self.frozen_at: float | None = None  # time.monotonic() of the freeze
        self._running = threading.Event()
        self._running.set()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, name="freeze-proxy", daemon=True).start()

    def dsn(self, dsn: str) -> str:
        """``dsn`` (a URL or key=value string) pointed at this proxy."""
        return make_conninfo(dsn, host="127.0.0.1", port=str(self.port), hostaddr="")

    @staticmethod
    def upstream_of(dsn: str) -> tuple[str, int]:
        """Where ``dsn`` connects (host, port): a proxy's upstream."""
        params = conninfo_to_dict(dsn)
        return str(params.get("host") or "127.0.0.1"), int(params.get("port") or 5432)

    def freeze(self) -> None:
        if self._running.is_set():
            self.frozen_at = time.monotonic()
        self._running.clear()

    @property
    def frozen(self) -> bool:
        return not self._running.is_set()

    def thaw(self) -> None:
        self._running.set()

    def close(self) -> None:
        self._closed.set()
        self._running.set()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in [self._listener, *sockets]:
            try:
                s.close()
            except OSError:
                pass

    def __enter__(self) -> FreezeProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
                server = _connect(self.upstream)
            except OSError:
                return
            with self._lock:
                self._sockets += [client, server]
            for src, dst, watch in ((client, server, True), (server, client, False)):
                threading.Thread(target=self._pump, args=(src, dst, watch), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, watch: bool) -> None:
        try:
            while True:
                self._running.wait()
                data = src.recv(65536)
                if not data:
                    break
                self._running.wait()  # frozen: hold what came, send nothing, close nothing
                if self._closed.is_set():
                    break
                dst.sendall(data)
                if watch and self.freeze_on is not None and self.freeze_on in data:
                    self.freeze()
        except OSError:
            pass
        finally:
            if self._closed.is_set() or not self.frozen:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass


def _connect(upstream: tuple[str, int]) -> socket.socket:
    """A TCP connection, or for a socket directory (the embedded server's ``host=/tmp/...``) a Unix one."""
    host, port = upstream
    if host.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(f"{host}/.s.PGSQL.{port}")
        return sock
    return socket.create_connection(upstream)
