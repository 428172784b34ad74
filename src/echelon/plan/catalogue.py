"""A synthetic catalogue: a complete plan data folder of any size (docs/plan-data.md).

:func:`write_catalogue` writes the folder that ``bench/plan_scale.py`` plans; every number
comes from :class:`CatalogueParams` and one seeded NumPy generator, so the same parameters give
the same bytes. The process (defaults in brackets):

- **Network** (weekly periods): an external supplier → national DC ``DC_N`` (supplier lead
  time ``supplier_lead_weeks`` [4]) → ``regional_dcs`` [4] regional DCs ``DC_R1`` … (lead time
  ``dc_lead_weeks`` [1]) → ``stores`` [45] stores ``S001`` … (lead time ``store_lead_weeks``
  [1]); store ``k`` (0-based) is served by regional DC ``k mod regional_dcs``.
- **Items** ``I00001`` …: a share ``intermittent_share`` [0.3] of them (drawn at random) is
  *intermittent* (category ``intermittent``, the others ``regular``). Unit cost log-uniform
  on ``unit_cost_range`` [1, 100] money per unit, rounded to cents; price = unit cost ×
  ``markup`` [1.5]; pack size drawn from ``pack_sizes`` [1, 6, 12] for regular items, 1 for
  intermittent ones; MOQ = one pack.
- **Demand** per item × store × week: the item's mean ``μ_i`` is log-uniform on
  ``mean_range`` [0.5, 40] units per week, scaled per store by ``w_s`` (lognormal with
  σ = ``store_spread`` [0.4], normalised to mean 1). Week ``t`` (t = 0 the first week of
  history) has the mean ``μ_is(t) = μ_i · w_s · (1 + season_amplitude · sin(2π (t −
  season_phase_weeks) / 52)) · (1 + trend · t / 52)`` (amplitude [0.3], phase [13] weeks:
  the peak falls in week ``season_phase_weeks + 13`` of every 52; trend [0] per year).
  A regular item's weekly demand is negative binomial with that mean and dispersion
  ``dispersion`` = r [2] (variance ``μ + μ²/r``). An intermittent item has demand in a week
  with probability ``demand_probability`` [0.25] (Bernoulli, independent), and then a negative
  binomial quantity of mean ``μ / demand_probability`` (and dispersion r), so that its mean is
  again ``μ_is(t)``. ``history_weeks`` [104] + ``holdout_weeks`` [8] weeks end the day before
  the plan date ``as_of`` [2026-01-05, a Monday]; one row per item × store × week, dated the
  Monday the week starts (per-period data).
- **Lead-time observations**: one shipment per lane per week over the last 26 weeks, its lead
  time in days ``max(1, round(N(7·L − 2, (0.1·7·L + 0.5)²)))`` for a lane of ``L`` weeks, so
  that it arrives within the planned week.
- **Inventory snapshot**: on hand per item × location = round(cover × mean weekly demand of
  the stores it serves × U(0.5, 1.5)), with the current policy's cover (3 weeks at stores and
  regional DCs, 6 at the national DC, :data:`echelon.plan.current_policy.DEFAULT_COVER`).
  Open orders: for a location with a lead time of ``L`` weeks, one order of a week's mean
  demand of the stores it serves due in each of the weeks 1 … L − 1 (the steady pipeline).
- **Targets**: fill rate ``targets`` [A 0.98, B 0.95, C 0.90] by ABC class (A up to 80 % of
  the sales value, B up to 95 %); **plan.yaml**: name ``catalogue``, the plan date, weekly
  periods, ``history_periods`` = ``history_weeks``, ``holdout_periods`` = ``holdout_weeks``,
  horizon 13, ``seed``.

Demand is written as ``demand.csv``, or as ``demand.parquet`` with ``demand_format="parquet"``
(dates as Parquet ``date32``; for large catalogues: a CSV file of 500 items × 45 stores × 112
weeks is above the 50 MB input limit of CSV files).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from echelon.fileio import atomic_write_bytes
from echelon.plan.current_policy import DEFAULT_COVER, cover_of
from echelon.plan.demo_data import write_csv, write_yaml

WEEKS_PER_YEAR = 52
LEAD_TIME_WEEKS_KEPT = 26  # weeks of shipments written to lead_times.csv
NATIONAL = "DC_N"


@dataclass(frozen=True)
class CatalogueParams:
    """Parameters of a synthetic catalogue (the process: module docstring). Quantities are
    units per week, lead times weeks, money per unit."""

    items: int = 50
    stores: int = 45
    regional_dcs: int = 4
    history_weeks: int = 104
    holdout_weeks: int = 8
    mean_range: tuple[float, float] = (0.5, 40.0)  # μ_i, log-uniform, units per week
    dispersion: float = 2.0  # negative-binomial size r: variance μ + μ²/r
    store_spread: float = 0.4  # σ of the lognormal store scale
    season_amplitude: float = 0.3  # relative amplitude of the annual sine
    season_phase_weeks: float = 13.0
    trend: float = 0.0  # relative growth of the mean per year
    intermittent_share: float = 0.3
    demand_probability: float = 0.25  # intermittent items: P(demand in a week)
    supplier_lead_weeks: int = 4
    dc_lead_weeks: int = 1
    store_lead_weeks: int = 1
    unit_cost_range: tuple[float, float] = (1.0, 100.0)  # log-uniform
    markup: float = 1.5  # price / unit cost
    pack_sizes: tuple[int, ...] = (1, 6, 12)
    targets: dict[str, float] = field(
        default_factory=lambda: {"A*": 0.98, "B*": 0.95, "C*": 0.90, "default": 0.95}
    )
    as_of: date = date(2026, 1, 5)
    seed: int = 0
    demand_format: Literal["csv", "parquet"] = "csv"

    def __post_init__(self) -> None:
        checks = {
            "items": self.items >= 1,
            "stores": self.stores >= 1,
            "regional_dcs": 1 <= self.regional_dcs <= self.stores,
            "history_weeks": self.history_weeks >= 2,
            "holdout_weeks": self.holdout_weeks >= 0,
            "mean_range": 0 < self.mean_range[0] <= self.mean_range[1],
            "dispersion": self.dispersion > 0,
            "season_amplitude": 0 <= self.season_amplitude < 1,
            "intermittent_share": 0 <= self.intermittent_share <= 1,
            "demand_probability": 0 < self.demand_probability <= 1,
            "unit_cost_range": 0 < self.unit_cost_range[0] <= self.unit_cost_range[1],
            "pack_sizes": len(self.pack_sizes) > 0 and min(self.pack_sizes) >= 1,
            "as_of": self.as_of.weekday() == 0,
            "demand_format": self.demand_format in ("csv", "parquet"),
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"CatalogueParams: invalid {', '.join(bad)}")

    @property
    def weeks(self) -> int:
        """Weeks of demand written: history plus hold-out."""
        return self.history_weeks + self.holdout_weeks


@dataclass(frozen=True)
class CatalogueDraw:
    """The drawn parameters of a catalogue: what the demand is drawn from."""

    item_ids: list[str]
    store_ids: list[str]
    intermittent: np.ndarray  # [item] bool
    mean: np.ndarray  # [item, store, week] units per week, the mean μ_is(t)
    unit_cost: np.ndarray  # [item] money per unit
    pack_size: np.ndarray  # [item] units


def draw_parameters(params: CatalogueParams, rng: np.random.Generator) -> CatalogueDraw:
    """Items, stores and the mean demand per item × store × week (module docstring)."""
    n, s = params.items, params.stores
    item_ids = [f"I{k + 1:05d}" for k in range(n)]
    store_ids = [f"S{k + 1:03d}" for k in range(s)]
    n_int = round(params.intermittent_share * n)
    intermittent = np.zeros(n, dtype=bool)
    intermittent[rng.permutation(n)[:n_int]] = True
    lo, hi = np.log(params.mean_range)
    mu_item = np.exp(rng.uniform(lo, hi, n))
    scale = rng.lognormal(0.0, params.store_spread, s)
    scale = scale / scale.mean()
    t = np.arange(params.weeks)
    season = 1.0 + params.season_amplitude * np.sin(
        2 * np.pi * (t - params.season_phase_weeks) / WEEKS_PER_YEAR
    )
    shape = season * (1.0 + params.trend * t / WEEKS_PER_YEAR)
    mean = mu_item[:, None, None] * scale[None, :, None] * shape[None, None, :]
    clo, chi = np.log(params.unit_cost_range)
    unit_cost = np.round(np.exp(rng.uniform(clo, chi, n)), 2)
    pack = rng.choice(np.asarray(params.pack_sizes), n)
    pack = np.where(intermittent, 1, pack)
    return CatalogueDraw(item_ids, store_ids, intermittent, mean, unit_cost, pack)


def draw_demand(
    params: CatalogueParams, draw: CatalogueDraw, rng: np.random.Generator
) -> np.ndarray:
    """Weekly demand [item, store, week] in units: negative binomial with mean ``draw.mean``
    and size ``params.dispersion``; intermittent items are Bernoulli × negative binomial."""
    r = params.dispersion
    p = params.demand_probability
    mean = np.where(draw.intermittent[:, None, None], draw.mean / p, draw.mean)
    qty = rng.negative_binomial(r, r / (r + mean))
    occurs = rng.random(mean.shape) < p
    occurs |= ~draw.intermittent[:, None, None]
    return np.where(occurs, qty, 0).astype(np.int64)


def write_catalogue(params: CatalogueParams, folder: str | Path) -> Path:
    """Write the catalogue's plan data folder at ``folder`` (created if needed); return it.

    Every file is written atomically; the same ``params`` give the same bytes."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(params.seed)
    draw = draw_parameters(params, rng)
    demand = draw_demand(params, draw, rng)
    dcs = [f"DC_R{k + 1}" for k in range(params.regional_dcs)]
    dc_of = {st: dcs[k % len(dcs)] for k, st in enumerate(draw.store_ids)}
    served = _served(draw, dc_of)
    write_yaml(folder / "network.yaml", _network(params, dcs, dc_of))
    write_csv(folder / "items.csv", _items(params, draw))
    _write_demand(folder, params, draw, demand)
    write_csv(folder / "inventory.csv", _inventory(params, served, draw.item_ids, rng))
    write_csv(folder / "on_order.csv", _on_order(params, served, draw.item_ids))
    write_csv(folder / "lead_times.csv", _lead_times(params, dc_of, rng))
    write_yaml(
        folder / "targets.yaml",
        {"measure": "fill_rate", "abc": {"a": 0.8, "b": 0.95}, "targets": dict(params.targets)},
    )
    write_yaml(
        folder / "plan.yaml",
        {
            "name": "catalogue",
            "currency": "USD",
            "as_of": params.as_of.isoformat(),
            "period_days": 7,
            "history_periods": params.history_weeks,
            "holdout_periods": params.holdout_weeks,
            "horizon": 13,
            "holding_rate": 0.25,
            "seed": params.seed,
        },
    )
    return folder


# ----------------------------------------------------------------------------- tables
def _lead(params: CatalogueParams, node: str) -> int:
    if node == NATIONAL:
        return params.supplier_lead_weeks
    return params.dc_lead_weeks if node.startswith("DC_R") else params.store_lead_weeks


def _network(params: CatalogueParams, dcs: list[str], dc_of: dict[str, str]) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {
            "id": NATIONAL,
            "name": "National DC",
            "external_supplier": True,
            "lead_time": params.supplier_lead_weeks,
        }
    ]
    nodes += [
        {"id": dc, "name": f"Regional DC {dc}", "lead_time": params.dc_lead_weeks} for dc in dcs
    ]
    nodes += [
        {"id": st, "name": f"Store {st}", "lead_time": params.store_lead_weeks} for st in dc_of
    ]
    lanes = [{"from": NATIONAL, "to": dc} for dc in dcs]
    lanes += [{"from": dc, "to": st} for st, dc in dc_of.items()]
    return {
        "name": "catalogue",
        "description": (
            f"synthetic catalogue: national DC -> {len(dcs)} regional DCs -> "
            f"{len(dc_of)} stores; weekly periods"
        ),
        "period_days": 7,
        "currency": "USD",
        "nodes": nodes,
        "lanes": lanes,
    }


def _items(params: CatalogueParams, draw: CatalogueDraw) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": draw.item_ids,
            "unit_cost": draw.unit_cost,
            "price": np.round(draw.unit_cost * params.markup, 2),
            "category": np.where(draw.intermittent, "intermittent", "regular"),
            "pack_size": draw.pack_size,
            "moq": draw.pack_size,
        }
    )


def _write_demand(
    folder: Path, params: CatalogueParams, draw: CatalogueDraw, demand: np.ndarray
) -> None:
    """One row per item × store × week (item, then store, then date order)."""
    n, s, w = demand.shape
    first = params.as_of - timedelta(weeks=w)
    days = pd.date_range(first, periods=w, freq="7D")
    df = pd.DataFrame(
        {
            "item_id": pd.Categorical.from_codes(
                np.repeat(np.arange(n), s * w), categories=pd.Index(draw.item_ids)
            ),
            "location_id": pd.Categorical.from_codes(
                np.tile(np.repeat(np.arange(s), w), n), categories=pd.Index(draw.store_ids)
            ),
            "ds": np.tile(days.strftime("%Y-%m-%d").to_numpy(), n * s),
            "y": demand.reshape(-1),
        }
    )
    for name in ("demand.csv", "demand.parquet"):
        (folder / name).unlink(missing_ok=True)  # one demand file only
    if params.demand_format == "csv":
        write_csv(folder / "demand.csv", df)
        return
    table = pa.table(
        {
            "item_id": pa.array(df["item_id"].astype(str)),
            "location_id": pa.array(df["location_id"].astype(str)),
            "ds": pa.array(np.tile(days.to_numpy().astype("datetime64[D]"), n * s)),
            "y": pa.array(df["y"].to_numpy()),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    atomic_write_bytes(folder / "demand.parquet", buffer.getvalue())


def _served(draw: CatalogueDraw, dc_of: dict[str, str]) -> dict[str, np.ndarray]:
    """Mean weekly demand [item] of the stores each location serves (over the history)."""
    per_store = draw.mean.mean(axis=2)  # [item, store]
    out: dict[str, np.ndarray] = {NATIONAL: per_store.sum(axis=1)}
    for dc in sorted(set(dc_of.values())):
        cols = [k for k, st in enumerate(draw.store_ids) if dc_of[st] == dc]
        out[dc] = per_store[:, cols].sum(axis=1)
    out |= {st: per_store[:, k] for k, st in enumerate(draw.store_ids)}
    return out


def _tier(node: str) -> int:
    return 2 if node == NATIONAL else (1 if node.startswith("DC_R") else 0)


def _inventory(
    params: CatalogueParams,
    served: dict[str, np.ndarray],
    item_ids: list[str],
    rng: np.random.Generator,
) -> pd.DataFrame:
    frames = []
    for node, mu in served.items():
        cover = cover_of(_tier(node), DEFAULT_COVER)
        on_hand = np.round(cover * mu * rng.uniform(0.5, 1.5, len(mu))).astype(np.int64)
        frames.append(pd.DataFrame({"item_id": item_ids, "location_id": node, "on_hand": on_hand}))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["item_id", "location_id"], kind="stable")


def _on_order(
    params: CatalogueParams, served: dict[str, np.ndarray], item_ids: list[str]
) -> pd.DataFrame:
    frames = []
    for node, mu in served.items():
        qty = np.round(mu).astype(np.int64)
        for week in range(1, _lead(params, node)):
            due = (params.as_of + timedelta(weeks=week)).isoformat()
            frames.append(
                pd.DataFrame(
                    {"item_id": item_ids, "location_id": node, "quantity": qty, "due": due}
                )
            )
    cols = ["item_id", "location_id", "quantity", "due"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)
    out = out[out["quantity"] > 0]
    return out.sort_values(["item_id", "location_id", "due"], kind="stable")[cols]


def _lead_times(
    params: CatalogueParams, dc_of: dict[str, str], rng: np.random.Generator
) -> pd.DataFrame:
    lanes = [("external", NATIONAL)]
    lanes += [(NATIONAL, dc) for dc in sorted(set(dc_of.values()))]
    lanes += [(dc, st) for st, dc in dc_of.items()]
    rows = []
    for _ in range(LEAD_TIME_WEEKS_KEPT):
        for src, dst in lanes:
            weeks = _lead(params, dst)
            mean, sd = 7.0 * weeks - 2.0, 0.7 * weeks + 0.5
            rows.append((src, dst, max(1, round(float(rng.normal(mean, sd))))))
    return pd.DataFrame(rows, columns=["from_id", "to_id", "lead_time_days"])
