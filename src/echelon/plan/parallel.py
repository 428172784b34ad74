"""Items across processes: a Dask cluster for the per-item stages of a plan.

``echelon plan DIR --workers N`` starts a local cluster of ``N`` worker processes (one thread
each); ``--dask tcp://HOST:8786`` connects to a running scheduler (docs/plan.md says how to
start one and its workers). :func:`use_cluster` makes the cluster the current one for the
duration of a plan (a context variable: the pipeline's signatures do not change), and
:func:`map_items` runs a per-item function over chunks of items on it — or, without a cluster,
in this process, one item at a time as before.

Results are identical to the single-process run: every item's work depends only on the shared
inputs and on its own seed (``config.seed`` + the item's index), never on which worker ran it
or in which order; :func:`map_items` returns the results in the items' order. Storage and the
report stay on the client. Today the **place** stage (GSM + simulation tuning per item, the
largest) runs on the cluster; the other stages run in the client process.
"""

from __future__ import annotations

import contextvars
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from echelon.errors import InputError

T = TypeVar("T")
X = TypeVar("X")
CHUNKS_PER_WORKER = 4  # chunks per worker: balances the load, bounds the scheduling overhead


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


_CLIENT: contextvars.ContextVar[Any | None] = contextvars.ContextVar("echelon_dask", default=None)


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
            cluster = LocalCluster(
                n_workers=spec.workers, threads_per_worker=1, processes=True,
                dashboard_address=None,
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
    token = _CLIENT.set(client)
    try:
        yield
    finally:
        _CLIENT.reset(token)
        client.close()
        if cluster is not None:
            cluster.close()


def chunks(items: Sequence[X], workers: int) -> list[list[X]]:
    """``items`` in consecutive chunks, :data:`CHUNKS_PER_WORKER` per worker."""
    size = max(1, math.ceil(len(items) / max(1, workers * CHUNKS_PER_WORKER)))
    return [list(items[k : k + size]) for k in range(0, len(items), size)]


def map_items(
    fn: Callable[..., list[T]],
    items: Sequence[X],
    shared: tuple[Any, ...],
    progress: Callable[[float], None] | None = None,
) -> list[T]:
    """``fn(chunk, *shared)`` (one result per item of the chunk) over ``items``, in their
    order: on the current cluster in chunks (``shared`` sent to every worker once), else here
    one item at a time. ``progress(fraction of items done)`` after each item or chunk."""
    client = _CLIENT.get()
    total = max(1, len(items))
    if client is None:
        out: list[T] = []
        for item in items:
            out.extend(fn([item], *shared))
            if progress:
                progress(len(out) / total)
        return out
    from distributed import as_completed

    workers = max(1, len(client.scheduler_info().get("workers", {})))
    parts = chunks(items, workers)
    scattered = [client.scatter([s], broadcast=True)[0] for s in shared]
    futures = [client.submit(fn, part, *scattered, pure=False) for part in parts]
    index = {f.key: k for k, f in enumerate(futures)}
    results: dict[int, list[T]] = {}
    done = 0
    for fut in as_completed(futures):
        k = index[fut.key]
        results[k] = fut.result()
        done += len(parts[k])
        if progress:
            progress(done / total)
    return [r for k in range(len(parts)) for r in results[k]]
