"""The planning workflow's shared data model: the validated inputs and the result of a run.

Inputs (a data folder, docs/plan-data.md): :class:`PlanConfig` (plan.yaml); the validated
folder is a :class:`echelon.plan.context.PlanContext`, built once by the loader.

Output: :class:`PlanResult` — everything a run produced, JSON-serializable
(``model_dump(mode="json")`` / ``model_validate``): placements (safety stock per item ×
location with its decomposition), recommendations (orders, lateral transfers, expedites) with
an explanation each, exceptions for human review, projected KPIs of the MEIO policy versus the
single-echelon practice and the current policy, forecasts for the fan charts, the
stock-to-service curve and the shadow-mode replay. Storage keeps it per run; the report and
the CLI render it.

Units: quantities are units of the item; money in the data's currency; periods are
``PlanConfig.period_days`` days (a week by default); a fill rate is a fraction (0–1).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION = 2  # 2: typed warnings (PlanWarning), policy names as PolicyName


# ----------------------------------------------------------------------------- inputs
def plan_parameters(config: PlanConfig, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a run records as its parameters (and what its idempotency key covers): the
    plan.yaml settings with the plan date, the command options, the echelon version."""
    from echelon import __version__

    parameters: dict[str, Any] = {"config": config.model_dump(mode="json")}
    if options:
        parameters["options"] = options
    parameters["echelon_version"] = __version__
    return parameters


#: upper bounds of plan.yaml's size settings (docs/plan-data.md): beyond them a run would
#: allocate gigabytes or take days, and no real plan needs more
MAX_SIM_PERIODS = 10_000  # periods per replication
MAX_SIM_REPS = 1_000  # replications
MAX_SIM_CELLS = 1_000_000  # sim_periods × sim_reps
MAX_PERIODS = 520  # horizon, history_periods, holdout_periods: ten years of weekly periods
MAX_MONEY = 1e15  # budget, money
MAX_SEED = 2**32 - 1
MAX_DAYS = 3650.0  # excess_days, ten years


def _strict(default: Any, **kw: Any) -> Any:
    """A field that takes its type only: no bool for a number, no "3" for 3, no 4.0 for 4."""
    return Field(default, strict=True, **kw)


class PlanConfig(BaseModel):
    """``plan.yaml`` of a data folder (every field optional). Numbers are strict (``true`` is
    not 1, ``"3"`` is not 3, an integer setting takes no ``4.0``) and every size setting has
    an upper bound (the ``MAX_*`` constants), so that no value makes a run hang or exhaust
    memory."""

    model_config = ConfigDict(extra="forbid")

    name: str = _strict("plan")
    currency: str = _strict("USD")
    as_of: date | None = Field(
        None, description="plan date; default: the day after the last demand date"
    )
    period_days: int = _strict(7, ge=1, le=31, description="days per planning period")
    holding_rate: float = _strict(
        0.25, gt=0, le=2, description="holding cost per year as a fraction of unit cost"
    )
    default_fill_rate: float = _strict(
        0.95, gt=0, lt=1, description="fill-rate target where the targets file sets none"
    )
    aggregate_fill_rate: float | None = _strict(
        None,
        gt=0,
        lt=1,
        description="one fill-rate target over all items × stores (the 'stock mix'): each "
        "item × store's target is chosen to meet it at least inventory; overrides the segment "
        "targets; None = per-segment targets (plan/stock_mix.py)",
    )
    aggregate_measure: Literal["unit", "value"] = Field(
        "unit", description="the aggregate fill rate weights demand by units or by sales value"
    )
    horizon: int = _strict(13, ge=1, le=MAX_PERIODS, description="forecast horizon, periods")
    history_periods: int | None = _strict(
        None, ge=8, le=100 * MAX_PERIODS, description="periods of history used; None = all"
    )
    holdout_periods: int = _strict(
        8, ge=0, le=MAX_PERIODS, description="most recent periods held out for shadow mode"
    )
    shadow_origins: int = _strict(
        4,
        ge=0,
        le=52,
        description="shadow-mode windows of holdout_periods each, back from the plan date "
        "(rolling shadow mode; the latest is the shadow mode of the hold-out; 0 = off)",
    )
    shadow_sample_items: int | None = _strict(
        500,
        ge=1,
        le=1_000_000,
        description="items replayed by the rolling shadow mode: a sample stratified by ABC "
        "class (item demand value) when the catalogue has more; None = every item",
    )
    budget: float | None = _strict(
        None, gt=0, le=MAX_MONEY, description="money for today's orders; None = unlimited"
    )
    excess_days: float = _strict(
        90.0, gt=0, le=MAX_DAYS, description="exception when on hand exceeds this days of supply"
    )
    bias_threshold: float = _strict(
        0.2, gt=0, le=100, description="exception when |forecast bias| / mean actual exceeds this"
    )
    change_threshold: float = _strict(
        0.5, gt=0, le=100, description="exception when a base-stock level moved by this share"
    )
    transfer_cost: float = _strict(
        0.5, ge=0, le=MAX_MONEY, description="money per unit moved laterally"
    )
    transfer_lead_time: float = _strict(
        0.0, ge=0, le=MAX_PERIODS, description="periods a lateral transfer takes (0: this period)"
    )
    expedite_cost: float = _strict(
        1.0, ge=0, le=MAX_MONEY, description="money per unit to expedite an order by one period"
    )
    sim_periods: int = _strict(
        520, ge=52, le=MAX_SIM_PERIODS, description="periods per replication for KPIs"
    )
    sim_reps: int = _strict(20, ge=2, le=MAX_SIM_REPS, description="replications for KPIs")
    seed: int = _strict(0, ge=0, le=MAX_SEED, description="random seed of the simulations")
    clean_outliers: bool = _strict(
        True, description="plan on the history with outlier periods replaced (plan/outliers.py)"
    )
    forecast_engine: Literal["auto", "statsforecast", "batched"] = Field(
        "auto",
        description="which code fits the forecast candidates: statsforecast, the batched "
        "engine (forecast/engine.py), or auto = batched above AUTO_BATCHED_SERIES store "
        "series (plan/forecasting.py)",
    )

    @field_validator("as_of", mode="before")
    @classmethod
    def _calendar_day(cls, value: Any) -> Any:
        """A calendar day: a YAML date or the text YYYY-MM-DD (no number, no date-time)."""
        if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
            return value
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            return value.strip()
        raise ValueError(f"expected a date YYYY-MM-DD, found {value!r}")

    @model_validator(mode="after")
    def _simulation_size(self) -> PlanConfig:
        cells = self.sim_periods * self.sim_reps
        if cells > MAX_SIM_CELLS:
            raise ValueError(
                f"sim_periods × sim_reps = {cells:,} is above {MAX_SIM_CELLS:,}: "
                "lower sim_periods or sim_reps"
            )
        return self


# ----------------------------------------------------------------------------- outputs
class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PolicyName(StrEnum):
    """The policies a plan compares; each carries its label and its one-line description.

    A new policy (e.g. an RL challenger) is one more member with its two texts."""

    MEIO = "meio"
    SINGLE_ECHELON = "single_echelon"
    CURRENT = "current"

    @property
    def label(self) -> str:
        """The short name shown in tables, charts and the report."""
        return _POLICY_LABELS[self.value]

    @property
    def description(self) -> str:
        """What the policy does, one line (the current policy's cover is in the run's text)."""
        return _POLICY_DESCRIPTIONS[self.value]


_POLICY_LABELS = {
    "meio": "MEIO",
    "single_echelon": "single-echelon",
    "current": "current policy",
}
_POLICY_DESCRIPTIONS = {
    "meio": "multi-echelon: guaranteed-service placement, store levels tuned in simulation to "
    "their fill-rate targets",
    "single_echelon": "single-echelon practice: every location mu*L + z*sigma_LTD on its own, "
    "store levels tuned in simulation to the same targets",
    "current": "naive current policy: a fixed cover of mean demand per location",
}


class WarningKind(StrEnum):
    """What the plan knows went wrong (a :class:`PlanWarning`)."""

    TARGET_NOT_REACHED = "target_not_reached"  # below target at the largest level searched
    ITEM_NOT_PLACED = "item_not_placed"  # no demand history: the item gets no placement
    NO_HOLDOUT = "no_holdout"  # too little history for the shadow-mode hold-out
    FALLBACK = "fallback"  # a documented fallback was taken
    OTHER = "other"  # a warning stored by an older version (text only)


class PlanWarning(BaseModel):
    """A typed warning of a run: its kind, one sentence, and where it applies."""

    model_config = ConfigDict(extra="forbid")

    kind: WarningKind
    message: str
    item: str | None = None
    location: str | None = None
    value: float | None = None  # the number behind it (a fill rate, periods, ...)

    def __str__(self) -> str:
        return self.message


class RecommendationKind(StrEnum):
    ORDER = "order"  # a new replenishment order from the location's supplier
    TRANSFER = "transfer"  # a lateral transfer between two locations of the same echelon
    EXPEDITE = "expedite"  # bring an open order forward


class RecommendationStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPORTED = "exported"


class ExceptionKind(StrEnum):
    STOCKOUT_RISK = "stockout_risk"  # projected stockout within the lead time
    EXCESS = "excess"  # on hand beyond PlanConfig.excess_days of supply
    ORDER_ABOVE_NEED = "order_above_need"  # MOQ / pack raise an order far above its need
    SERVICE_SHORTFALL = "service_shortfall"  # realized fill rate of a segment below target
    FORECAST_BIAS = "forecast_bias"
    LARGE_CHANGE = "large_change"  # base-stock level moved a lot since the last plan
    DATA_QUALITY = "data_quality"


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class SafetyStockParts(_Out):
    """Safety stock (units) split by cause; the parts add up to ``total``.

    ``demand_variability``: z·σ_D·√τ with deterministic lead time; ``lead_time_variability``:
    what lead-time variance adds on top; ``service_target``: the change from the default target
    to this node's target; ``upstream_service_time``: the change from the upstream's committed
    service time (0 if the supplier quoted none); conventions in echelon.plan.decompose.
    """

    demand_variability: float
    lead_time_variability: float
    service_target: float
    upstream_service_time: float
    total: float


class Explanation(_Out):
    summary: str  # one sentence a planner can read
    drivers: list[str] = Field(default_factory=list)  # the numbers behind it, one line each
    safety_stock: SafetyStockParts | None = None
    counterfactual: str | None = None  # what would remove or change the recommendation


class Placement(_Out):
    """Where stock is held for one item at one location (MEIO policy)."""

    item: str
    location: str
    tier: int  # 0 = stores, 1 = the echelon above, ...
    segment: str | None = None  # ABC/XYZ, e.g. "AX"
    mean_demand: float  # per period, at this location (stores) or passing through it
    std_demand: float  # per period
    lead_time: float  # periods, mean
    inbound_service_time: float  # periods
    outbound_service_time: float  # periods
    net_replenishment_time: float  # periods
    target: float | None = None  # fill-rate target (stores)
    base_stock: float  # order-up-to level on the local inventory position, units
    safety_stock: float  # units
    safety_stock_value: float  # money
    single_echelon_base_stock: float
    single_echelon_safety_stock: float
    explanation: Explanation


class Recommendation(_Out):
    key: str  # stable within a run: "<kind>:<item>:<source>-><location>"
    kind: RecommendationKind
    item: str
    location: str  # where the units go
    source: str | None = None  # the supplier / the other location; None = external supplier
    quantity: float  # units (after MOQ, pack size, capacity, budget)
    unit_cost: float
    value: float  # money = quantity × unit_cost
    arrival: date | None = None
    inventory_position: float | None = None  # before the recommendation, units
    order_up_to: float | None = None
    explanation: Explanation
    status: RecommendationStatus = RecommendationStatus.PROPOSED
    firm_run: int | None = None  # a firm order kept from this run (plan/firm.py), else None


class PlanException(_Out):
    kind: ExceptionKind
    severity: Severity
    message: str
    item: str | None = None
    location: str | None = None
    value: float | None = None  # the number that triggered it (days, share, units ...)


SEVERITY_RANK = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}
EXCEPTION_KIND_RANK = {k: i for i, k in enumerate(ExceptionKind)}


def exception_order(e: PlanException) -> tuple[int, int, str, str]:
    """The one ordering of exceptions (CLI, report, storage): most severe first, then by kind
    (in :class:`ExceptionKind` order), item and location."""
    return (SEVERITY_RANK[e.severity], EXCEPTION_KIND_RANK[e.kind], e.item or "", e.location or "")


def inventory_saving(meio_value: float | None, single_value: float | None) -> float | None:
    """Fraction of the single-echelon inventory value that MEIO does not hold:
    ``(single − meio) / single`` (positive = MEIO holds less); None without both values or
    with a single-echelon value ≤ 0."""
    if meio_value is None or single_value is None or single_value <= 0:
        return None
    return (single_value - meio_value) / single_value


class Kpis(_Out):
    """Projected (simulated) or replayed KPIs of one policy over a set of locations."""

    fill_rate: float | None = None  # share of demand units shipped from stock
    fill_rate_ci: float | None = None  # half width of the 95% CI
    cycle_service_level: float | None = None  # share of periods without a stockout
    turns: float | None = None  # per year: annual cost of goods / average inventory value
    days_of_supply: float | None = None  # average on hand / average demand per day
    inventory_value: float | None = None  # average on-hand inventory value (pipeline excluded)
    safety_stock_value: float | None = None
    target_met: bool | None = None


class PolicyKpis(_Out):
    policy: PolicyName
    description: str
    network: Kpis
    stores: dict[str, Kpis] = Field(default_factory=dict)  # location → KPIs (all items)


class ForecastSeries(_Out):
    """One item × location for the fan charts: history tail, hold-out actuals, quantiles.

    ``model`` is the model of these (hold-out fit) forecasts; ``plan_model`` the model the
    plan fit on the whole history forecasts the series with — the one its levels are planned
    on. They differ when the hold-out fit's shorter history gives another demand class (e.g.
    ``GroupPrior`` for a series too short there) or another champion; None: not recorded."""

    item: str
    location: str
    model: str | None = None
    plan_model: str | None = None
    history_ds: list[date]
    history: list[float]
    ds: list[date]  # forecast periods (start dates)
    actual: list[float | None] = Field(default_factory=list)  # where known (hold-out)
    mean: list[float]
    quantiles: dict[str, list[float]] = Field(default_factory=dict)  # "0.1" → values


class CurvePoint(_Out):
    policy: PolicyName
    inventory_value: float
    fill_rate: float


class ShadowResult(_Out):
    """Recommended vs current policy replayed against actual demand of held-out periods."""

    periods: int
    start: date
    end: date
    current_policy: str  # description of the naive current policy
    kpis: list[PolicyKpis]


class SegmentService(_Out):
    """Realized service of one ABC class over the rolling shadow-mode windows (actual demand
    the plans had not seen): fill rate per policy with its 95% CI half width, against the
    class's demand-weighted target."""

    segment: str  # "A", "B", "C"
    target: float  # demand-weighted fill-rate target of its item × store series
    series: int  # item × store series in the class
    realized: dict[str, float | None]  # PolicyName value → realized fill rate
    realized_ci: dict[str, float | None]  # PolicyName value → 95% CI half width
    #: PolicyName value → projected fill rate: the tuning's simulated fill rate of the same
    #: plans (forecast + resampled backtest errors), weighted by the same realized demand
    projected: dict[str, float | None] = Field(default_factory=dict)


class RollingShadow(_Out):
    """Shadow mode from several origins (``config.shadow_origins``): each window planned only
    with the data before its origin and replayed against the actual demand after it. KPIs are
    pooled over the windows (fill rates demand-weighted; inventory values averaged)."""

    origins: list[date]  # first day of each window, latest first
    periods: int  # periods per window
    kpis: list[PolicyKpis]
    segments: list[SegmentService]
    saving: float | None  # MEIO vs single-echelon inventory value at the realized service
    #: items replayed (``config.shadow_sample_items``) out of the catalogue's; equal: all
    sampled_items: int | None = None
    catalogue_items: int | None = None


class StockMixSummary(_Out):
    """The aggregate service target (``PlanConfig.aggregate_fill_rate``): per-series targets
    chosen at least inventory versus one uniform target, both simulated (KPI random numbers,
    MEIO policy; inventory value = average on hand × unit cost over the network, money)."""

    target: float  # the aggregate fill rate asked for (fraction)
    measure: str  # "unit" or "value"
    series: int  # item × store series with demand
    mix_fill_rate: float  # simulated aggregate fill rate with the chosen targets
    uniform_fill_rate: float  # with the aggregate target at every series
    mix_inventory_value: float
    uniform_inventory_value: float
    saving: float | None  # (uniform − mix) / uniform inventory value
    lowest_target: float  # the smallest and largest per-series targets chosen
    highest_target: float


class NetworkNode(_Out):
    id: str
    tier: int
    x: float
    y: float
    safety_stock_value: float = 0.0


class PlanResult(_Out):
    schema_version: int = SCHEMA_VERSION
    name: str
    created_at: str  # ISO 8601, UTC
    as_of: date
    input_hash: str
    parameters: dict[str, Any]  # the PlanConfig and command options used
    currency: str
    period_days: int
    items: list[str]
    locations: list[str]
    network_nodes: list[NetworkNode]
    network_lanes: list[tuple[str, str]]
    placements: list[Placement]
    recommendations: list[Recommendation]
    exceptions: list[PlanException]
    kpis: list[PolicyKpis]  # meio, single_echelon, current
    saving: float | None = None  # inventory value saving of MEIO vs single-echelon, fraction
    service_met: bool | None = None  # MEIO's simulated fill rate >= target at every store
    forecasts: list[ForecastSeries] = Field(default_factory=list)
    stock_to_service: list[CurvePoint] = Field(default_factory=list)
    shadow: ShadowResult | None = None
    rolling_shadow: RollingShadow | None = None
    stock_mix: StockMixSummary | None = None
    warnings: list[PlanWarning] = Field(default_factory=list)

    def policy(self, name: PolicyName) -> PolicyKpis | None:
        """The projected KPIs of policy ``name`` (None when the run has none)."""
        return next((k for k in self.kpis if k.policy == name), None)

    @field_validator("warnings", mode="before")
    @classmethod
    def _text_warnings(cls, value: Any) -> Any:
        """Runs stored before schema 2 kept warnings as plain text."""
        if isinstance(value, list):
            return [{"kind": "other", "message": w} if isinstance(w, str) else w for w in value]
        return value
