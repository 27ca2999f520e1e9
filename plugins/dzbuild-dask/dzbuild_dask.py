"""Run dzbuild's work units on a Dask cluster: ``--executor dask`` or ``--executor dask://HOST:PORT``.

The building process (the client) plans and publishes, exactly as with the fork pool; Dask
workers compute the units, writing their tiles and linking the unchanged ones below their roots
into the version's temporary folder, and read the version's tables from a file beside it. So
the source and output folders must be on a filesystem every worker sees, which is checked
before any tile work. A unit is a pure function of files on disk that overwrites its outputs,
so Dask may run it again on another worker when one dies.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from urllib.parse import urlsplit

from dzbuild.api import BuildError, ConfigError, DzbuildError, default_jobs, hookimpl

dzbuild_api = "1.0"  # the dzbuild.api version this plugin is written for

__version__ = "0.1.0"
CANCEL_WAIT = 60.0  # seconds to wait for cancelled units that are running to stop writing


class DaskProvider:
    """``dask``: a LocalCluster of ``--jobs`` one-thread worker processes, or the scheduler at ADDRESS."""

    name = "dask"
    scheme = "tcp"

    def open(self, jobs: int | None, address: str | None) -> "DaskExecutor":
        if address is not None and "://" not in address:
            address = f"{self.scheme}://{address}"
        return DaskExecutor(jobs, address if address is None else checked_address(address))


class TlsProvider(DaskProvider):
    """``tls://HOST:PORT``: a scheduler that speaks TLS (certificates from Dask's own configuration)."""

    name = "tls"
    scheme = "tls"

    def open(self, jobs: int | None, address: str | None) -> "DaskExecutor":
        if address is None:
            raise ConfigError("the tls executor needs the scheduler's address: tls://HOST:PORT")
        return super().open(jobs, address)


@hookimpl
def register_executors(register):
    register(DaskProvider())
    register(TlsProvider())


class DaskExecutor:
    """A dzbuild executor on a Dask client; it connects (or starts its LocalCluster) on first use."""

    whole_images = True  # a site's small images are built whole on the workers, one task each

    def __init__(self, jobs: int | None, address: str | None) -> None:
        self.address = address  # None: start a LocalCluster
        self._requested = jobs
        self._client = None
        self._cluster = None
        self._threads = 0
        self._checked: list[tuple[str, int]] = []  # mount points every worker sees, with their device here
        self._logging = None
        self._closed = False

    def __enter__(self) -> "DaskExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close(cancel=exc[0] is not None)

    @property
    def jobs(self) -> int:
        """Worker threads of the cluster: how many units the planner cuts the work into."""
        self._connect()
        return self._threads

    @property
    def workers(self) -> int | None:
        """Worker threads, or None when no unit needed the cluster (``--json``)."""
        return self._threads or None

    @property
    def client(self):
        """The ``distributed.Client`` (connected on first use), for scripts that ask the cluster more."""
        return self._connect()

    def prewarm(self, workers: int) -> None:
        """Start the LocalCluster (or connect) now, so that it overlaps the planning."""
        self._connect()

    def start(self, fn, items, workers: int | None = None) -> "DaskBatch":
        client = self._connect()
        return DaskBatch(self, client.map(fn, list(items), pure=False))

    def run(self, fn, items) -> list:
        return self.start(fn, items).results()

    def close(self, cancel: bool = False) -> None:
        """Disconnect; a LocalCluster started here is shut down with its workers."""
        client, cluster, self._client, self._cluster = self._client, self._cluster, None, None
        self._closed = True
        try:
            if client is not None:
                client.close()
            if cluster is not None:
                cluster.close()
        except Exception:  # noqa: BLE001 - a scheduler already gone has nothing left to close
            pass
        for name, level in (self._logging or {}).items():
            logging.getLogger(name).setLevel(level)
        self._logging = None

    def check_paths(self, read: list, write: list) -> None:
        """Raise ``BuildError`` unless every worker sees these folders as this process does.

        A worker must find the same folder (same inode) at each path and be able to write into
        each of ``write``. Once a folder passed, every folder below the mount point of its
        filesystem (here) is taken as seen too, so a site of many images asks the workers once
        or twice, not once per image.
        """
        wanted = []
        for path, writable in [*((p, False) for p in read), *((p, True) for p in write)]:
            path = os.path.abspath(path)
            info = os.stat(path)
            if not any(_below(path, mount) and dev == info.st_dev for mount, dev in self._checked):
                wanted.append((path, info.st_ino, writable, info.st_dev))
        if not wanted:
            return
        client = self._connect()
        answers = _call(lambda: client.run(probe, [w[:3] for w in wanted]), self.address)
        for worker, problems in sorted(answers.items()):
            if problems:
                path, why = problems[0]
                raise BuildError(
                    f"Dask worker {worker} cannot use this folder: {why}; source and output must be on a"
                    " filesystem every worker shares, at the same path",
                    path,
                )
        self._checked += [(_mount_point(path, dev), dev) for path, _, _, dev in wanted]

    # -- Connecting ---------------------------------------------------------------------------

    def _connect(self):
        if self._client is not None:
            return self._client
        if self._closed:
            raise BuildError("this Dask executor was closed")
        import distributed

        self._logging = _quiet_logs()  # dzbuild says what went wrong, in one line
        if self.address is None:
            self._client = self._local_cluster(distributed)
        else:
            _call(lambda: _handshake(self.address), self.address)
            self._client = _call(lambda: distributed.Client(self.address, set_as_default=False), self.address)
            wanted = self._requested or 1
            try:
                self._client.wait_for_workers(wanted, timeout=_timeout())
            except (TimeoutError, OSError) as exc:
                self.close()
                raise BuildError(f"the Dask scheduler at {self.address} has fewer than {wanted} workers") from exc
        self._threads = max(1, sum(w["nthreads"] for w in self._client.scheduler_info()["workers"].values()))
        return self._client

    def _local_cluster(self, distributed):
        terminal = sys.stderr.isatty() and _has_dashboard()
        self._cluster = distributed.LocalCluster(
            n_workers=self._requested or default_jobs(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0" if terminal else None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # its HTTP server on a free port, not 8787
            silence_logs=logging.CRITICAL,
        )
        client = distributed.Client(self._cluster, set_as_default=False)
        if terminal:
            print(f"dzbuild: Dask dashboard at {client.dashboard_link}", file=sys.stderr)
        return client

    # -- Results and cancelling ---------------------------------------------------------------

    def _gather(self, futures) -> list:
        return _call(lambda: self._client.gather(futures), self.address)

    def _cancel(self, futures) -> None:
        """Cancel ``futures`` and wait until no worker still runs one (it could still write a tile)."""
        client = self._client
        if client is None or not futures:
            return
        keys = {future.key for future in futures}
        try:
            client.cancel(futures, force=True)
            deadline = time.monotonic() + CANCEL_WAIT
            while time.monotonic() < deadline and any(client.run(executing, keys).values()):
                time.sleep(0.05)
        except Exception:  # noqa: BLE001 - the scheduler is gone: nothing more can be asked
            pass


class DaskBatch:
    """Futures started together; ``results()`` waits for all and raises the first failure."""

    def __init__(self, executor: DaskExecutor, futures: list) -> None:
        self._executor = executor
        self._futures = futures

    def results(self) -> list:
        try:
            return self._executor._gather(self._futures)
        except BaseException:
            self.cancel()  # the other units of the batch may still be writing
            raise

    def cancel(self) -> None:
        self._executor._cancel(self._futures)


def _call(action, address: str | None):
    """Run a client call; turn Dask's failures into one-line ``BuildError``s, keep dzbuild's own errors."""
    from distributed import CancelledError
    from distributed.scheduler import KilledWorker

    where = f"the Dask scheduler at {address}" if address else "the local Dask cluster"
    try:
        return action()
    except DzbuildError:
        raise
    except KilledWorker as exc:
        raise BuildError(f"a work unit was tried on several Dask workers and each of them died: {exc}") from None
    except CancelledError:
        raise BuildError(f"lost {where}; nothing of the version being built was published") from None
    except (OSError, TimeoutError) as exc:
        raise BuildError(f"could not reach {where}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a unit's unexpected error: one line, exit 7
        raise BuildError(f"a work unit failed on {where}: {type(exc).__name__}: {exc}") from None


# -- The scheduler's address ----------------------------------------------------------------------

HOST_PORT_SCHEMES = ("tcp", "tls", "ws", "wss")  # Dask's schemes whose address is HOST:PORT


def checked_address(address: str) -> str:
    """``address`` unchanged, or ``ConfigError`` at once for one Dask could never connect to.

    Dask reports a port that is not a number, or a bracket left open, only when it connects, as
    an error that reads like a failed work unit; this says what is wrong before anything starts.
    """
    scheme, _, location = address.partition("://")
    problem = _location_problem(location) if scheme in HOST_PORT_SCHEMES else None
    if problem:
        raise ConfigError(
            f"{address!r} is not a Dask scheduler's address (HOST:PORT, e.g. dask://head-node:8786): {problem}",
            "--executor",
        )
    return address


def _location_problem(location: str) -> str | None:
    """What is wrong with ``HOST:PORT``, or None."""
    if any(mark in location for mark in "/?#@"):
        return "it has a path, query or user name"
    try:
        parts = urlsplit(f"//{location}")
        port = parts.port
    except ValueError as exc:
        if "IPv6" in str(exc):
            return "its brackets do not enclose an IPv6 address"
        port = 0
    if port is None and not location.endswith(":"):
        return "the port is missing"
    if not port:
        return "the port must be a number from 1 to 65535"
    return None if parts.hostname else "the host is missing"


def _handshake(address: str) -> None:
    """Open one connection and exchange Dask's handshake, within twice the connect timeout.

    Dask itself waits for the handshake without a limit, so a server that accepts connections
    but is not a scheduler (a web server, say) would hang the build; here it is a one-line
    ``ConfigError`` instead. Reaching nothing stays Dask's own ``OSError`` after the timeout.
    The exchange runs on its own thread and event loop, so it works where a loop already runs,
    and a Ctrl-C meanwhile is not held up by it.
    """
    from distributed.comm import CommClosedError, connect, parse_address, registry
    from distributed.security import Security

    try:
        registry.get_backend(parse_address(address)[0])
    except ValueError as exc:  # a scheme no installed transport speaks
        raise ConfigError(f"{address!r} is not a Dask scheduler's address: {exc}", "--executor") from None
    timeout = _timeout()

    async def exchange():
        comm = await connect(address, timeout=timeout, **Security().get_connection_args("client"))
        await comm.close()

    not_dask = f"{address} answered, but not as a Dask scheduler"
    try:
        _run_apart(lambda: asyncio.wait_for(exchange(), 2 * timeout))
    except asyncio.TimeoutError:
        raise ConfigError(f"{not_dask} (no handshake within {2 * timeout:g} s)", "--executor") from None
    except CommClosedError as exc:  # it closed the connection (or refused TLS) instead of answering
        raise ConfigError(f"{not_dask}: {exc}", "--executor") from None
    except OSError:
        raise  # nothing answered within the connect timeout
    except Exception as exc:  # noqa: BLE001 - what it sent does not decode as Dask's frames
        raise ConfigError(f"{not_dask} ({type(exc).__name__} reading its reply)", "--executor") from None


def _run_apart(make_coroutine) -> None:
    """Run a coroutine on a new event loop in a daemon thread; raise what it raised.

    Waiting is a ``join``, which Ctrl-C interrupts, and the thread never delays the process's exit.
    """
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(make_coroutine())
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="dzbuild-dask-handshake", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def _quiet_logs() -> dict[str, int]:
    """Silence Dask's loggers below CRITICAL (each has its own level); return their levels to restore.

    ``asyncio`` too: a Ctrl-C during ``gather`` leaves Dask's waiting tasks to be reported as
    never retrieved, one traceback each.
    """
    names = ["asyncio", "distributed", *(n for n in logging.root.manager.loggerDict if n.startswith("distributed."))]
    levels = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return levels


def _timeout() -> float:
    import dask
    from dask.utils import parse_timedelta

    return parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), default="s")


def _has_dashboard() -> bool:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True


def _mount_point(path: str, dev: int) -> str:
    """The topmost folder above ``path`` on the same filesystem (device ``dev``)."""
    while path != "/" and os.stat(os.path.dirname(path)).st_dev == dev:
        path = os.path.dirname(path)
    return path


def _below(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


# -- What runs on the workers ---------------------------------------------------------------------


def probe(folders: list[tuple[str, int, bool]]) -> list[tuple[str, str]]:
    """On a worker: the folders it cannot use as the client does, each with the reason."""
    problems = []
    for path, inode, writable in folders:
        try:
            info = os.stat(path)
        except OSError as exc:
            problems.append((path, exc.strerror or str(exc)))
            continue
        if info.st_ino != inode:
            problems.append((path, "it is another folder there (a different inode)"))
        elif writable and not os.access(path, os.W_OK | os.X_OK):
            problems.append((path, "it is not writable there"))
    return problems


def executing(keys: set, dask_worker=None) -> list:
    """On a worker: which of ``keys`` are still running there."""
    return [task.key for task in dask_worker.state.executing if task.key in keys]
