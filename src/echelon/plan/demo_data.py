"""The demo data folder, built from the bundled M5 (Walmart) store × department sales.

:func:`write_demo_folder` writes a complete plan data folder (docs/plan-data.md, section
"Demo data set"). The demand is real (M5, ``echelon/data/m5``, see its PROVENANCE.md); the
rest is documented assumption:

- **Network** (weekly periods): an external supplier → national DC ``DC_US`` → state DCs
  ``DC_CA``, ``DC_TX``, ``DC_WI`` → the 10 stores of their state. Planned lead times in weeks:
  supplier → DC_US 3, DC_US → state DC 1, state DC → store 1 (:data:`PLANNED_WEEKS`).
- **Items**: the 7 departments. Prices are round figures of the order of M5 shelf prices per
  department (M5's price file is not bundled); unit cost = 2/3 of the price (a 33 % gross
  margin); case packs of 24 (FOODS_3), 12 (other foods) or 6 units; MOQ = 4 packs
  (:data:`DEPARTMENTS`).
- **Demand**: daily unit sales of the last ``history + holdout`` = 112 weeks before the plan
  date 2016-04-25 (the M5 data end on Sunday 2016-04-24), so weekly periods run Monday–Sunday.
- **Lead-time observations**: every weekly shipment of the last 26 simulated weeks on every
  lane, in days, drawn from N(mean, sd) rounded to whole days and floored at a minimum
  (:data:`LANE_DAYS`); a shipment of d days arrives ⌈d/7⌉ weeks after it leaves.
- **Inventory snapshot** (on hand, open orders with due dates): the state after 52 weeks of
  the naive current policy (:data:`CURRENT_POLICY`) replayed against the actual M5 sales:
  every week each location orders up to :data:`COVER_WEEKS` weeks of the average weekly sales
  of the stores it serves over the last 8 weeks (order rounded up to packs, at least the MOQ);
  a DC ships what it has (pro rata when short) and cancels the rest; stores lose unmet sales.
- **Targets**: fill rate 0.98 for A items, 0.95 for B, 0.90 for C (ABC by annual sales value).
"""

from __future__ import annotations

from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from echelon.fileio import atomic_write_text
from echelon.policies.order_rules import apply_order_rules

M5_RESOURCE = "data/m5/m5_store_dept_daily.csv.gz"
AS_OF = date(2016, 4, 25)  # Monday after the last M5 day
HISTORY_WEEKS = 104
HOLDOUT_WEEKS = 8
SIM_WEEKS = 52  # weeks of the current policy simulated before the plan date
LEAD_TIME_WEEKS_KEPT = 26  # weeks of shipments written to lead_times.csv
STATES = {
    "CA": ["CA_1", "CA_2", "CA_3", "CA_4"],
    "TX": ["TX_1", "TX_2", "TX_3"],
    "WI": ["WI_1", "WI_2", "WI_3"],
}
# department: (price USD, pack size, category); unit cost = price × 2/3, MOQ = 4 packs
DEPARTMENTS = {
    "FOODS_1": (3.30, 12, "Foods"),
    "FOODS_2": (3.60, 12, "Foods"),
    "FOODS_3": (2.70, 24, "Foods"),
    "HOBBIES_1": (9.90, 6, "Hobbies"),
    "HOBBIES_2": (3.90, 6, "Hobbies"),
    "HOUSEHOLD_1": (5.40, 6, "Household"),
    "HOUSEHOLD_2": (6.60, 6, "Household"),
}
COST_SHARE = 2.0 / 3.0
MOQ_PACKS = 4
# lane tier: (mean days, sd days, minimum days) of the lead time of one shipment
LANE_DAYS = {"supplier": (18.0, 3.0, 10), "national": (5.0, 1.5, 2), "state": (3.0, 1.0, 1)}
PLANNED_WEEKS = {"supplier": 3, "national": 1, "state": 1}
COVER_WEEKS = {"national": 6.0, "state": 3.0, "store": 3.0}  # order-up-to, weeks of sales
AVERAGE_WEEKS = 8
CURRENT_POLICY = (
    "naive current policy: every week each location orders up to a fixed number of weeks of "
    "the average weekly sales of the stores it serves over the last 8 weeks (stores 3, state "
    "DCs 3, national DC 6), rounded up to packs and at least the MOQ; DCs ship what they have "
    "(pro rata) and cancel the rest"
)
FILL_RATE_TARGETS = {"A*": 0.98, "B*": 0.95, "C*": 0.90, "default": 0.95}


def load_m5() -> pd.DataFrame:
    """The bundled M5 store × department daily sales: store_id, dept_id, ds, y (units/day)."""
    with resources.files("echelon").joinpath(M5_RESOURCE).open("rb") as fh:
        df = pd.read_csv(
            fh,
            compression="gzip",
            usecols=["store_id", "dept_id", "ds", "y"],
            parse_dates=["ds"],
        )
    df["y"] = df["y"].astype(float)
    return df


def write_demo_folder(path: str | Path, *, seed: int = 0) -> Path:
    """Write the M5 demo data folder at ``path`` (created if needed) and return ``path``.

    The same ``seed`` writes the same bytes (lead-time draws of the current-policy replay).
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    m5 = load_m5()
    stores = [s for group in STATES.values() for s in group]
    depts = list(DEPARTMENTS)
    first = pd.Timestamp(AS_OF - timedelta(weeks=HISTORY_WEEKS + HOLDOUT_WEEKS))
    window = m5[(m5["ds"] >= first) & (m5["ds"] < pd.Timestamp(AS_OF))]
    demand = window.rename(columns={"dept_id": "item_id", "store_id": "location_id"})
    demand = demand.sort_values(["item_id", "location_id", "ds"])[
        ["item_id", "location_id", "ds", "y"]
    ]
    weekly = _weekly_sales(m5, stores, depts)
    on_hand, pipeline, lead_obs = _replay_current_policy(weekly, stores, seed)

    write_yaml(path / "network.yaml", _network(stores))
    write_csv(path / "items.csv", _items())
    write_csv(path / "demand.csv", demand.assign(y=demand["y"].astype(int)))
    write_csv(path / "inventory.csv", _inventory(on_hand, depts))
    write_csv(path / "on_order.csv", _on_order(pipeline, depts))
    write_csv(path / "lead_times.csv", lead_obs)
    write_yaml(
        path / "targets.yaml",
        {"measure": "fill_rate", "abc": {"a": 0.8, "b": 0.95}, "targets": FILL_RATE_TARGETS},
    )
    write_yaml(
        path / "plan.yaml",
        {
            "name": "m5-demo",
            "currency": "USD",
            "as_of": AS_OF.isoformat(),
            "period_days": 7,
            "history_periods": HISTORY_WEEKS,
            "holdout_periods": HOLDOUT_WEEKS,
            "horizon": 13,
            "holding_rate": 0.25,
            "seed": seed,
        },
    )
    return path


# ----------------------------------------------------------------------------- files
def write_csv(path: Path, df: pd.DataFrame) -> None:
    atomic_write_text(path, df.to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\n"))


def write_yaml(path: Path, data: dict[str, Any]) -> None:
    atomic_write_text(path, yaml.safe_dump(data, sort_keys=False))


def _network(stores: list[str]) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {
            "id": "DC_US",
            "name": "National DC",
            "external_supplier": True,
            "lead_time": PLANNED_WEEKS["supplier"],
        }
    ]
    lanes = []
    for state, group in STATES.items():
        dc = f"DC_{state}"
        nodes.append(
            {"id": dc, "name": f"{state} state DC", "lead_time": PLANNED_WEEKS["national"]}
        )
        lanes.append({"from": "DC_US", "to": dc})
        for store in group:
            nodes.append(
                {"id": store, "name": f"Store {store}", "lead_time": PLANNED_WEEKS["state"]}
            )
            lanes.append({"from": dc, "to": store})
    return {
        "name": "m5-demo",
        "description": "M5 (Walmart): national DC -> 3 state DCs -> 10 stores; weekly periods",
        "period_days": 7,
        "currency": "USD",
        "nodes": nodes,
        "lanes": lanes,
    }


def _items() -> pd.DataFrame:
    rows = [
        {
            "item_id": dept,
            "unit_cost": round(price * COST_SHARE, 2),
            "price": price,
            "category": category,
            "pack_size": pack,
            "moq": MOQ_PACKS * pack,
        }
        for dept, (price, pack, category) in DEPARTMENTS.items()
    ]
    return pd.DataFrame(rows)


def _inventory(on_hand: dict[str, np.ndarray], depts: list[str]) -> pd.DataFrame:
    rows = [
        {"item_id": d, "location_id": node, "on_hand": round(float(stock[k]))}
        for node, stock in on_hand.items()
        for k, d in enumerate(depts)
    ]
    return pd.DataFrame(rows).sort_values(["item_id", "location_id"], kind="stable")


def _on_order(pipeline: list[tuple[int, str, np.ndarray]], depts: list[str]) -> pd.DataFrame:
    rows = [
        {
            "item_id": d,
            "location_id": node,
            "quantity": round(float(qty[k])),
            "due": (AS_OF + timedelta(weeks=week)).isoformat(),
        }
        for week, node, qty in pipeline
        for k, d in enumerate(depts)
        if qty[k] > 0
    ]
    cols = ["item_id", "location_id", "quantity", "due"]
    return pd.DataFrame(rows, columns=cols).sort_values([*cols[:2], "due"], kind="stable")


# ----------------------------------------------------------------------------- current policy
def _weekly_sales(m5: pd.DataFrame, stores: list[str], depts: list[str]) -> np.ndarray:
    """Sales per week (Monday–Sunday) before the plan date: array [week, store, dept]."""
    weeks = SIM_WEEKS + AVERAGE_WEEKS
    first = pd.Timestamp(AS_OF - timedelta(weeks=weeks))
    df = m5[(m5["ds"] >= first) & (m5["ds"] < pd.Timestamp(AS_OF))]
    week = ((df["ds"] - first).dt.days // 7).to_numpy()
    s = pd.Categorical(df["store_id"], categories=stores).codes
    d = pd.Categorical(df["dept_id"], categories=depts).codes
    out = np.zeros((weeks, len(stores), len(depts)))
    np.add.at(out, (week, s, d), df["y"].to_numpy())
    return out


def _order(target: np.ndarray, position: np.ndarray) -> np.ndarray:
    """Order up to ``target``: at least the MOQ, rounded up to packs (per department; the
    order rules of docs/model.md, :func:`echelon.policies.order_rules.apply_order_rules`)."""
    pack = np.array([p for _, p, _ in DEPARTMENTS.values()], dtype=float)
    need = np.broadcast_to(target - position, np.broadcast_shapes(np.shape(target), pack.shape))
    rules = np.vectorize(apply_order_rules, otypes=[float])
    return np.asarray(rules(need, MOQ_PACKS * pack, pack))


def _replay_current_policy(
    weekly: np.ndarray, stores: list[str], seed: int
) -> tuple[dict[str, np.ndarray], list[tuple[int, str, np.ndarray]], pd.DataFrame]:
    """Replay the current policy over the last SIM_WEEKS weeks (module doc).

    Returns on hand per node at the plan date, the open orders (weeks from the plan date until
    arrival, node, units per department) and the lead-time observations of the last weeks.
    """
    rng = np.random.default_rng(seed)
    n_dept = weekly.shape[2]
    state_of = {s: st for st, group in STATES.items() for s in group}
    store_ix = {s: i for i, s in enumerate(stores)}
    served = {s: [store_ix[s]] for s in stores}
    served |= {f"DC_{st}": [store_ix[s] for s in g] for st, g in STATES.items()}
    served["DC_US"] = list(range(len(stores)))
    supplier_of = {s: f"DC_{state_of[s]}" for s in stores}
    supplier_of |= {f"DC_{st}": "DC_US" for st in STATES}
    tier = {n: ("store" if n in store_ix else "state") for n in supplier_of}
    tier["DC_US"] = "national"

    def cover(node: str, t: int) -> np.ndarray:
        past = weekly[t : t + AVERAGE_WEEKS, served[node]].sum(axis=1).mean(axis=0)
        return COVER_WEEKS[tier[node]] * past

    dcs = [f"DC_{st}" for st in STATES]
    nodes = ["DC_US", *dcs, *stores]
    on_hand = {n: cover(n, 0) for n in nodes}
    arrivals: dict[tuple[int, str], np.ndarray] = {}
    lead_rows = []
    for w in range(SIM_WEEKS):
        t = w + AVERAGE_WEEKS  # index into weekly: the week being played
        for n in nodes:
            on_hand[n] = on_hand[n] + arrivals.pop((w, n), 0.0)
        for s in stores:
            on_hand[s] = np.maximum(on_hand[s] - weekly[t, store_ix[s]], 0.0)
        for echelon in (stores, dcs, ["DC_US"]):  # stores order first, then the DCs
            wants = {}
            for n in echelon:
                future = sum((q for (_, m), q in arrivals.items() if m == n), np.zeros(n_dept))
                wants[n] = _order(cover(n, t - AVERAGE_WEEKS + 1), on_hand[n] + future)
            for n, want in _ship_pro_rata(wants, supplier_of, on_hand).items():
                src = supplier_of.get(n)
                lane = "supplier" if src is None else ("national" if src == "DC_US" else "state")
                mean, sd, low = LANE_DAYS[lane]
                days = max(low, round(float(rng.normal(mean, sd))))
                if w >= SIM_WEEKS - LEAD_TIME_WEEKS_KEPT:
                    lead_rows.append((src or "external", n, days))
                due = w + max(1, -(-days // 7))  # arrives ceil(days / 7) weeks later
                arrivals[(due, n)] = arrivals.get((due, n), 0.0) + want
    pipeline = [(due - SIM_WEEKS, n, q) for (due, n), q in sorted(arrivals.items())]
    leads = pd.DataFrame(lead_rows, columns=["from_id", "to_id", "lead_time_days"])
    return on_hand, pipeline, leads


def _ship_pro_rata(
    wants: dict[str, np.ndarray], supplier_of: dict[str, str], on_hand: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """What each node receives: its order, cut pro rata when its DC has too little on hand.

    The external supplier (no entry in ``supplier_of``) ships every order in full.
    """
    shipped = dict(wants)
    for src in {supplier_of[n] for n in wants if n in supplier_of}:
        kids = [n for n in wants if supplier_of.get(n) == src]
        total = sum((wants[n] for n in kids), np.zeros_like(on_hand[src]))
        share = np.where(total > on_hand[src], on_hand[src] / np.maximum(total, 1e-12), 1.0)
        for n in kids:
            shipped[n] = wants[n] * share
        on_hand[src] = on_hand[src] - sum((shipped[n] for n in kids), np.zeros_like(total))
    return shipped
