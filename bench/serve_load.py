"""Load test of the planner's workspace (issue 15, acceptance 4: no error, p95 < 300 ms).

Starts `echelon serve` on 127.0.0.1 (a separate process, as a user runs it) over a COPY of the
demo database, then for ``--seconds`` runs ``--readers`` concurrent clients reading pages and
the API (runs list, dashboard, exceptions worklist, recommendations, an item × location, the
recommendations JSON) and ``--writers`` clients approving and rejecting recommendations
through the page actions (HTMX posts with the CSRF token), each client logged in with its own
session. Prints the number of requests, errors (any status ≥ 400 or a failed request) and the
latency p50 / p95 / p99 per kind and overall; exits 1 on any error.

    .venv/bin/python bench/serve_load.py [--db echelon-demo/echelon.db] [--seconds 30]
        [--readers 20] [--writers 2]

Without ``--db`` it uses ``echelon-demo/echelon.db`` (``make demo``) when it exists, else it
plans the demo data folder with fewer simulation replications into ``--out`` first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from echelon.storage import list_runs, load_run
from echelon.storage.users import add_user, list_users

ECHELON = Path(sys.executable).with_name("echelon")
PASSWORD = "load-test-password"
FAST = {"sim_reps": 4, "sim_periods": 104, "shadow_origins": 1}


def _demo_db(args: argparse.Namespace) -> Path:
    if args.db is not None:
        return Path(args.db)
    made = Path("echelon-demo/echelon.db")
    if made.exists():
        return made
    import yaml

    from echelon.plan.demo_data import write_demo_folder
    from echelon.plan.service import plan_and_store

    folder = write_demo_folder(args.out / "data", seed=0)
    config = yaml.safe_load((folder / "plan.yaml").read_text()) | FAST
    (folder / "plan.yaml").write_text(yaml.safe_dump(config))
    db = args.out / "echelon.db"
    print(f"planning the demo into {db} (fewer simulation replications) ...", flush=True)
    plan_and_store(folder, str(db))
    return db


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _csrf(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


async def _client(base: str, name: str) -> tuple[httpx.AsyncClient, str]:
    c = httpx.AsyncClient(base_url=base, timeout=30.0, follow_redirects=True)
    token = _csrf((await c.get("/login")).text)
    r = await c.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    if r.status_code >= 400 or "/login" in str(r.url):
        raise SystemExit(f"login as {name} failed: {r.status_code}")
    return c, _csrf(r.text)


Samples = dict[str, list[float]]


async def _timed(c: httpx.AsyncClient, kind: str, samples: Samples, errors: list[str],
                 method: str, url: str, **kw: object) -> None:  # fmt: skip
    start = time.perf_counter()
    try:
        r = await c.request(method, url, **kw)  # type: ignore[arg-type]
        failed = f"{r.status_code} {method} {url}" if r.status_code >= 400 else None
    except httpx.HTTPError as exc:
        failed = f"{type(exc).__name__} {method} {url}"
    samples.setdefault(kind, []).append(time.perf_counter() - start)
    if failed:
        errors.append(failed)


async def _reader(c: httpx.AsyncClient, run: int, cells: list[tuple[str, str]], until: float,
                  samples: Samples, errors: list[str], seed: int) -> None:  # fmt: skip
    rng = random.Random(seed)
    pages = [("runs", "/"), ("dashboard", f"/runs/{run}"),
             ("worklist", f"/runs/{run}/exceptions"),
             ("recommendations", f"/runs/{run}/recommendations"),
             ("api recommendations", f"/api/v1/runs/{run}/recommendations")]  # fmt: skip
    while time.perf_counter() < until:
        if rng.random() < 0.15:
            item, loc = rng.choice(cells)
            await _timed(c, "item x location", samples, errors, "GET", f"/runs/{run}/cell",
                         params={"item": item, "location": loc})  # fmt: skip
        else:
            kind, url = rng.choice(pages)
            await _timed(c, kind, samples, errors, "GET", url)


async def _writer(c: httpx.AsyncClient, token: str, run: int, keys: list[str], until: float,
                  samples: Samples, errors: list[str]) -> None:  # fmt: skip
    """Approve, then reject, then approve ... its own keys (every change is allowed)."""
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    action = {k: "approve" for k in keys}
    while time.perf_counter() < until:
        for k in keys:
            if time.perf_counter() >= until:
                break
            await _timed(c, f"{action[k]} (write)", samples, errors, "POST",
                         f"/runs/{run}/{action[k]}", data={"key": k}, headers=headers)  # fmt: skip
            action[k] = "reject" if action[k] == "approve" else "approve"


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(xs: list[float], q: int) -> float:
    """The ``q``-th percentile of ``xs`` (seconds) in milliseconds."""
    if len(xs) < 2:
        return xs[0] * 1000
    return statistics.quantiles(xs, n=100, method="inclusive")[q - 1] * 1000


def _report(samples: Samples, errors: list[str], seconds: float) -> None:
    every = [x for xs in samples.values() for x in xs]
    print(f"{'kind':<22}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for kind, xs in sorted(samples.items()):
        print(f"{kind:<22}{len(xs):>9}{_pct(xs, 50):>9.1f}{_pct(xs, 95):>9.1f}{_pct(xs, 99):>9.1f}")
    print(f"{'all':<22}{len(every):>9}{_pct(every, 50):>9.1f}{_pct(every, 95):>9.1f}"
          f"{_pct(every, 99):>9.1f}")  # fmt: skip
    print(f"throughput {len(every) / seconds:.1f} requests/s; errors {len(errors)}")
    for e in sorted(set(errors))[:20]:
        print(f"  error: {e} (x{errors.count(e)})")
    goal = _pct(every, 95) < 300
    print(f"goal p95 < 300 ms: {'met' if goal else 'NOT met'}")


async def _load(base: str, run: int, args: argparse.Namespace, db: str, pid: int) -> None:
    result = load_run(db, run)
    cells = sorted({(r.item, r.location) for r in result.recommendations}) or [("x", "y")]
    keys = [r.key for r in result.recommendations if r.status.value == "proposed"]
    samples: Samples = {}
    errors: list[str] = []
    # every client logs in first (argon2 is meant to be slow: ~0.1 s of CPU a login), so that
    # neither the clock nor the server CPU per request counts the logins
    readers = await asyncio.gather(*[_client(base, "load-reader") for _ in range(args.readers)])
    writers = await asyncio.gather(*[_client(base, "load-writer") for _ in range(args.writers)])
    until = time.perf_counter() + args.seconds
    tasks = [_reader(c, run, cells, until, samples, errors, i) for i, (c, _) in enumerate(readers)]
    tasks += [_writer(c, token, run, keys[i :: args.writers][:20], until, samples, errors)
              for i, (c, token) in enumerate(writers)]  # fmt: skip
    start, cpu, own = time.perf_counter(), cpu_seconds(pid), time.process_time()
    try:
        await asyncio.gather(*tasks)
    finally:
        for c, _ in readers + writers:
            await c.aclose()
    _report(samples, errors, time.perf_counter() - start)
    after = cpu_seconds(pid)
    n = sum(len(xs) for xs in samples.values())
    if cpu is not None and after is not None and n:
        print(
            f"server CPU {after - cpu:.1f} s for {n} requests: {(after - cpu) / n * 1000:.1f} ms "
            f"per request; load generator CPU {time.process_time() - own:.1f} s; load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
    if errors:
        raise SystemExit(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=Path("/tmp/echelon-serve-load"))
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--readers", type=int, default=20)
    ap.add_argument("--writers", type=int, default=2)
    args = ap.parse_args()
    source = _demo_db(args)
    args.out.mkdir(parents=True, exist_ok=True)
    db = args.out / "load.db"  # a copy: the writers change statuses
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(db) as dst:
        src.backup(dst)  # the committed state, the WAL included
    names = {u.name for u in list_users(str(db))}
    for name, role in (("load-reader", "viewer"), ("load-writer", "approver")):
        if name not in names:
            add_user(str(db), name, role, PASSWORD)
    run = list_runs(str(db))[0].id
    port = _free_port()
    env = os.environ | {"ECHELON_SECRET": "load-test-secret"}
    server = subprocess.Popen(
        [str(ECHELON), "serve", "--db", str(db), "--port", str(port), "--no-access-log"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise SystemExit("the server did not start")
        print(f"run {run} of {source}: {args.readers} readers + {args.writers} writers for "
              f"{args.seconds:g} s on {base}; load average before "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)  # fmt: skip
        asyncio.run(_load(base, run, args, str(db), server.pid))
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
