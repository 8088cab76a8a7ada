"""Real outages for the drills (tests/drill_support.py): a database that refuses
connections, a payment provider that cannot be reached, a Temporal server stopped and
started again on the same port with its state.

- PostgreSQL and localstripe are reached through a ``LoopbackProxy``: ``cut()`` stops
  it listening and breaks every connection through it (a connection is then refused,
  as from a server that is down), ``restore()`` listens again on the same port.
- SQLite has no server: ``sqlite_unreachable`` moves its directory away, so opening the
  file fails, and closes the connections the processes' pools hold (as a lost volume
  breaks them); moved back, the next connection opens it again.
- ``RestartableTemporal`` is the dev server `make run` starts (``DevStack.temporal_argv``,
  state in a file), on reserved ports, stopped and started again as `make run`'s is.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from config.temporal import ensure_search_attributes
from devstack.children import Children
from devstack.layout import DevStack
from tests.ports import HOST, free_port, start_on_reserved_ports_async
from tests.support import settings_for

CHUNK = 64 * 1024
STARTUP_SECONDS = 60.0


class LoopbackProxy:
    """A TCP proxy on a loopback port in front of ``target``, on its own thread (the
    test's event loop may block on a synchronous query through it)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()

    def __enter__(self) -> LoopbackProxy:
        self._thread.start()
        self.restore()
        return self

    def __exit__(self, *_: object) -> None:
        self._call(self._shut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def cut(self) -> None:
        self._call(self._close())

    def restore(self) -> None:
        self._call(self._listen())

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        self.cut()
        try:
            yield
        finally:
            self.restore()

    def _call(self, work: object) -> None:
        asyncio.run_coroutine_threadsafe(work, self._loop).result()  # type: ignore[arg-type]

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._link, HOST, self.port)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    async def _shut(self) -> None:
        await self._close()
        links = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in links:
            task.cancel()
        await asyncio.gather(*links, return_exceptions=True)

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._links |= {writer, upstream_writer}
        await asyncio.gather(
            _pipe(reader, upstream_writer), _pipe(upstream_reader, writer), return_exceptions=True
        )
        self._links -= {writer, upstream_writer}


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while chunk := await source.read(CHUNK):
            sink.write(chunk)
            await sink.drain()
    finally:
        sink.transport.abort()


def through(proxy: LoopbackProxy, url: str) -> str:
    """``url`` with its host and port replaced by the proxy's."""
    rerouted = make_url(url).set(host=HOST, port=proxy.port)
    return rerouted.render_as_string(hide_password=False)


@contextlib.contextmanager
def sqlite_unreachable(url: str, engines: Sequence[Engine]) -> Iterator[None]:
    """The SQLite database of ``url`` cannot be opened, and ``engines`` hold no
    connection to it, until the block ends."""
    database = make_url(url).database
    assert database, url
    folder = Path(database).parent
    away = folder.with_name(f"{folder.name}-away")
    folder.rename(away)
    for engine in engines:
        engine.dispose()
    try:
        yield
    finally:
        away.rename(folder)


class RestartableTemporal:
    """The embedded stack's Temporal dev server, its state in ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._children = Children(data_dir / "logs")
        self.stack: DevStack | None = None

    @property
    def address(self) -> str:
        assert self.stack is not None
        return self.stack.temporal_address

    async def start(self) -> Client:
        """Start it (on the ports of its first start); a client once it answers."""
        if self.stack is None:
            return await start_on_reserved_ports_async(4, self._first_start)
        self._children.start("temporal", self.stack.temporal_argv(), os.environ)
        return await self._connected()

    def stop(self) -> None:
        self._children.stop()

    async def _first_start(self, ports: list[int]) -> Client:
        grpc, ui, http, metrics = ports
        settings = settings_for(
            "sqlite://",
            sms_dev_temporal_port=grpc,
            sms_dev_temporal_ui_port=ui,
            sms_dev_temporal_http_port=http,
            sms_dev_temporal_metrics_port=metrics,
        )
        self.stack = DevStack(settings=settings, data_dir=self.data_dir)
        self._children.start("temporal", self.stack.temporal_argv(), os.environ)
        try:
            client = await self._connected()
        except Exception:
            self.stop()
            self.stack = None
            raise
        advice = await ensure_search_attributes(client)
        assert advice is None, advice
        return client

    async def _connected(self) -> Client:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            self._children.check()
            try:
                return await Client.connect(self.address, data_converter=pydantic_data_converter)
            except RuntimeError:  # not listening yet
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.25)
