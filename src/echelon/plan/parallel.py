"""Items across processes: a Dask cluster for the per-item stages of a plan.

``echelon plan DIR --workers N`` starts a local cluster of ``N`` worker processes (one Dask
thread each; numba's kernel threads split the machine's cores between them,
:func:`worker_env`); ``--dask tcp://HOST:8786`` connects to a running scheduler (docs/plan.md
says how to start one and its workers). :func:`use_cluster` makes the cluster the current one
for the duration of a plan (a context variable: the pipeline's signatures do not change);
:func:`map_items` runs a per-item function over chunks of items on it (one task per chunk,
:func:`split` sizes the chunks: as large as the kernel's memory budget allows, their number a
multiple of the workers) and :func:`later` runs one call there while the client goes on —
without a cluster both run in this process, as before.

Results are identical to the single-process run: every item's work depends only on the shared
inputs and on its own seed (``config.seed`` + the item's index), never on which worker ran it,
in which chunk or in which order; :func:`map_items` returns the results in the items' order.
Shared inputs are sent to the workers once while they are in use (:func:`shared_future`,
keyed by the object: they must not be changed while the cluster is in use). Storage and the
report stay on the client. On the cluster today: the **place** stage (GSM + simulation tuning
per item) and the shadow stage's placements, its earlier origins' forecasts (one task per
origin) and its replays (one task per origin).
"""

from __future__ import annotations

import contextvars
import math
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from typing import Any, Generic, TypeVar

from echelon.errors import InputError

T = TypeVar("T")
X = TypeVar("X")
NUMBA_THREADS = "NUMBA_NUM_THREADS"  # numba's thread count, read when a process starts
WARM_MODULES = ("echelon.plan.tuning", "echelon.plan.forecasting", "echelon.plan.shadow")
KEEP_SENT = 8  # shared inputs kept on the workers (a plan reuses its data, forecasts, lead times)
_SCALARS = (int, float, str, bool, date, type(None))  # sent with the task, not scattered


@dataclass(frozen=True)
class ClusterSpec:
    """Where to run the items: a scheduler address, or a number of local worker processes."""

    address: str | None = None  # e.g. "tcp://10.0.0.5:8786"
    workers: int | None = None  # local cluster of this many processes

    def __post_init__(self) -> None:
        if self.address is not None and self.workers is not None:
            raise InputError(
                "give either --dask or --workers",
                field="--dask/--workers",
                expected="a scheduler address or a number of local workers",
                found="both",
                fix="drop one of the two options",
            )
        if self.workers is not None and not 1 <= self.workers <= 256:
            raise InputError(
                "number of workers out of range",
                field="--workers",
                expected="1 to 256",
                found=str(self.workers),
                fix="give a number of worker processes",
            )


@dataclass
class _Session:
    """The current cluster: its client, its worker count and the shared inputs last sent
    (``id(obj)`` → (obj, future), the most recently used last; the object is kept so that
    its id is not reused)."""

    client: Any
    workers: int
    sent: OrderedDict[int, tuple[Any, Any]] = field(default_factory=OrderedDict)
    warming: list[Any] = field(default_factory=list)  # the futures of :func:`_warm`


_SESSION: contextvars.ContextVar[_Session | None] = contextvars.ContextVar(
    "echelon_dask", default=None
)


def worker_env(
    workers: int, cores: int | None = None, environ: Mapping[str, str] = os.environ
) -> dict[str, str]:
    """Environment of the worker processes of a local cluster of ``workers``: numba's kernel
    threads (``prange``) share the ``cores`` (default: this machine's) between the workers,
    ``cores // workers`` each and at least one, so that they do not oversubscribe the machine;
    nothing where ``NUMBA_NUM_THREADS`` is already set (the workers inherit it)."""
    if NUMBA_THREADS in environ:
        return {}
    cores = cores if cores is not None else os.cpu_count() or 1
    return {NUMBA_THREADS: str(max(1, cores // max(1, workers)))}


@contextmanager
def use_cluster(spec: ClusterSpec | None) -> Iterator[None]:
    """Make the cluster of ``spec`` the current one (nothing for ``None``); closes what it
    started. An unreachable scheduler is an :class:`InputError` naming the address."""
    if spec is None or (spec.address is None and spec.workers is None):
        yield
        return
    from distributed import Client, LocalCluster

    cluster = None
    try:
        if spec.address is not None:
            client = Client(spec.address, timeout=30)
        else:
            assert spec.workers is not None
            cluster = LocalCluster(
                n_workers=spec.workers, threads_per_worker=1, processes=True,
                dashboard_address=None, env=worker_env(spec.workers),
            )  # fmt: skip
            client = Client(cluster)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        raise InputError(
            "cannot reach the Dask scheduler",
            source=spec.address,
            found=str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__,
            fix="start it with `dask scheduler` and give its tcp://HOST:PORT (docs/plan.md)",
        ) from None
    addresses = list(client.scheduler_info().get("workers", {}))
    warming = [  # on every worker while the client forecasts (kept: a dropped future stops)
        client.submit(_warm, WARM_MODULES, workers=[a], pure=False) for a in addresses
    ]
    token = _SESSION.set(_Session(client, max(1, len(addresses)), warming=warming))
    try:
        yield
    finally:
        _SESSION.reset(token)
        client.close()
        if cluster is not None:
            cluster.close()


def _warm(modules: Sequence[str]) -> None:
    """Import ``modules`` (on a worker, once it starts: their imports cost seconds of CPU
    there that the first task would otherwise wait for)."""
    import importlib

    for name in modules:
        importlib.import_module(name)


def cluster_workers() -> int:
    """Worker processes of the current cluster (when it started); 1 without a cluster."""
    session = _SESSION.get()
    return session.workers if session is not None else 1


def worker_cpu_seconds() -> float | None:
    """CPU seconds (``time.process_time``, every thread) the current cluster's worker processes
    have used so far, summed over the workers; None without a cluster (for benchmarks)."""
    session = _SESSION.get()
    if session is None:
        return None
    import time

    return float(sum(session.client.run(time.process_time).values()))


def split(items: Sequence[X], max_size: int, workers: int = 1) -> list[list[X]]:
    """``items`` in consecutive chunks of at most ``max_size`` (at least 1), as few as that
    allows with their number a multiple of ``workers`` (so that every worker gets as many;
    never more chunks than items) and their sizes within one of each other: large chunks keep
    the kernel's item batches large, equal ones keep the workers equally busy."""
    n = len(items)
    if n == 0:
        return []
    w = max(1, workers)
    count = min(n, w * math.ceil(n / (w * max(1, max_size))))
    size, extra = divmod(n, count)
    bounds = [k * size + min(k, extra) for k in range(count + 1)]
    return [list(items[lo:hi]) for lo, hi in pairwise(bounds)]


def shared_future(session: _Session, obj: Any) -> Any:
    """``obj`` on every worker of ``session``: scattered (broadcast) the first time, its
    future again while it is among the :data:`KEEP_SENT` most recently used (the older ones
    are let go: the workers free them once no task waits on them)."""
    key = id(obj)
    if key not in session.sent:
        future = session.client.scatter([obj], broadcast=True, hash=False)[0]
        session.sent[key] = (obj, future)
        while len(session.sent) > KEEP_SENT:
            session.sent.popitem(last=False)
    session.sent.move_to_end(key)
    return session.sent[key][1]


def _task_args(session: _Session, args: Sequence[Any]) -> list[Any]:
    return [a if isinstance(a, _SCALARS) else shared_future(session, a) for a in args]


class _Box(Generic[T]):
    """A task's result, pickled whole: Dask would send a plain dict or list as msgpack, and a
    dict's enum keys would come back as strings."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value


def _boxed(fn: Callable[..., T], *args: Any) -> _Box[T]:
    """``fn(*args)`` in a :class:`_Box` (the function a cluster runs)."""
    return _Box(fn(*args))


def map_items(
    fn: Callable[..., list[T]],
    items: Sequence[X],
    shared: tuple[Any, ...],
    progress: Callable[[float], None] | None = None,
) -> list[T]:
    """``fn([item], *shared)`` (a list of one result) for every item of ``items``, in their
    order: on the current cluster one task per item (an item here is usually a chunk of
    :func:`split`; ``shared`` sent to every worker once, :func:`shared_future`), else here one
    at a time. ``progress(fraction of items done)`` after each item."""
    session = _SESSION.get()
    total = max(1, len(items))
    if session is None:
        out: list[T] = []
        for item in items:
            out.extend(fn([item], *shared))
            if progress:
                progress(len(out) / total)
        return out
    from distributed import as_completed

    args = _task_args(session, shared)
    futures = [session.client.submit(_boxed, fn, [item], *args, pure=False) for item in items]
    index = {f.key: k for k, f in enumerate(futures)}
    results: dict[int, list[T]] = {}
    for fut in as_completed(futures):
        results[index[fut.key]] = fut.result().value
        if progress:
            progress(len(results) / total)
    return [r for k in range(len(items)) for r in results[k]]


class Later(Generic[T]):
    """One call, on the current cluster from the moment it is made (:func:`later`), or here:
    at once (``eager``) or when its :meth:`result` is first asked for."""

    def __init__(self, fn: Callable[..., T], args: tuple[Any, ...], eager: bool) -> None:
        session = _SESSION.get()
        self._fn, self._args = fn, args
        self._future = (
            None
            if session is None
            else session.client.submit(_boxed, fn, *_task_args(session, args), pure=False)
        )
        self._done: list[T] = []
        if eager and session is None:
            self.result()

    def result(self) -> T:
        """The call's result (waits for the cluster; computed once)."""
        if not self._done:
            self._done.append(
                self._fn(*self._args) if self._future is None else self._future.result().value
            )
            self._args = ()  # the inputs are no longer needed here
        return self._done[0]


def later(fn: Callable[..., T], *args: Any, eager: bool = False) -> Later[T]:
    """``fn(*args)`` started on the current cluster now (its non-scalar arguments sent once,
    :func:`shared_future`); without a cluster run here, at once with ``eager`` (as a plain
    call would), else on :meth:`Later.result` (never, if it is never asked for)."""
    return Later(fn, args, eager)
