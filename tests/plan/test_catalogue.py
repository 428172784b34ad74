"""The synthetic catalogue generator (echelon.plan.catalogue): a loadable folder, demand that
follows its stated negative-binomial process, the intermittent share, determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from echelon.plan.catalogue import (
    CatalogueDraw,
    CatalogueParams,
    draw_parameters,
    write_catalogue,
)
from echelon.plan.data import load_context

SMALL = CatalogueParams(items=6, stores=5, regional_dcs=2, seed=3)


def _demand_cube(folder: Path, params: CatalogueParams) -> np.ndarray:
    """demand.csv as an array [item, store, week] (rows are item, store, date sorted)."""
    df = pd.read_csv(folder / "demand.csv", dtype={"item_id": str, "location_id": str})
    assert len(df) == params.items * params.stores * params.weeks
    return df["y"].to_numpy().reshape(params.items, params.stores, params.weeks)


def _draw(params: CatalogueParams) -> CatalogueDraw:
    return draw_parameters(params, np.random.default_rng(params.seed))


def test_folder_loads(tmp_path: Path) -> None:
    write_catalogue(SMALL, tmp_path)
    ctx = load_context(tmp_path)
    assert ctx.item_ids == [f"I{k:05d}" for k in range(1, 7)]
    assert sorted(ctx.stores) == [f"S{k:03d}" for k in range(1, 6)]
    assert len(ctx.network.nodes) == 1 + 2 + 5
    assert ctx.as_of == SMALL.as_of
    periods = ctx.history.groupby(["item_id", "location_id"]).size()
    assert (periods == SMALL.weeks).all() and len(periods) == 30
    assert ctx.config.holdout_periods == 8 and ctx.config.history_periods == 104
    national = next(n for n in ctx.network.nodes if n.id == "DC_N")
    assert national.external_supplier and national.lead_time.value == 4.0  # type: ignore[union-attr]


def test_demand_follows_the_negative_binomial(tmp_path: Path) -> None:
    """Stationary regular demand: standardised residuals (y − μ) / √(μ + μ²/r) have mean 0 and
    variance 1 within sampling error (22,400 draws: sd of the mean 0.007)."""
    params = CatalogueParams(
        items=20, stores=10, regional_dcs=2, season_amplitude=0.0, intermittent_share=0.0, seed=5
    )
    write_catalogue(params, tmp_path)
    y = _demand_cube(tmp_path, params)
    mu = _draw(params).mean
    r = params.dispersion
    z = (y - mu) / np.sqrt(mu + mu**2 / r)
    assert abs(z.mean()) < 0.03
    assert abs(z.var() - 1.0) < 0.1
    # and the variance grows as μ + μ²/r, not as a Poisson μ: pooled variance ratio
    assert abs(((y - mu) ** 2).sum() / (mu + mu**2 / r).sum() - 1.0) < 0.1
    assert ((y - mu) ** 2).sum() / mu.sum() > 3.0


def test_seasonal_mean_is_followed(tmp_path: Path) -> None:
    """With seasonality, the weekly totals follow Σ μ_is(t) (peak and trough weeks)."""
    params = CatalogueParams(items=30, stores=10, regional_dcs=2, season_amplitude=0.5, seed=1)
    write_catalogue(params, tmp_path)
    y = _demand_cube(tmp_path, params).sum(axis=(0, 1))
    mu = _draw(params).mean.sum(axis=(0, 1))
    peak, trough = int(mu.argmax()), int(mu.argmin())
    assert mu[peak] / mu[trough] == pytest.approx(3.0, rel=1e-9)  # (1 + 0.5) / (1 − 0.5)
    assert np.corrcoef(y, mu)[0, 1] > 0.8
    assert abs(y.sum() / mu.sum() - 1.0) < 0.05


def test_intermittent_items(tmp_path: Path) -> None:
    """30 % of the items are intermittent; their share of weeks with demand is
    p · P(NB(μ/p, r) > 0), and regular items' share is P(NB(μ, r) > 0)."""
    params = CatalogueParams(items=40, stores=6, regional_dcs=2, seed=2)
    write_catalogue(params, tmp_path)
    items = pd.read_csv(tmp_path / "items.csv")
    intermittent = (items["category"] == "intermittent").to_numpy()
    assert intermittent.sum() == 12
    assert (items.loc[intermittent, "pack_size"] == 1).all()
    y = _demand_cube(tmp_path, params)
    draw = _draw(params)
    assert (draw.intermittent == intermittent).all()
    r, p = params.dispersion, params.demand_probability
    m = np.where(intermittent[:, None, None], draw.mean / p, draw.mean)
    positive = 1.0 - (r / (r + m)) ** r
    expected = np.where(intermittent[:, None, None], p * positive, positive)
    for mask in (intermittent, ~intermittent):
        share, want = (y[mask] > 0).mean(), expected[mask].mean()
        sd = np.sqrt((expected[mask] * (1 - expected[mask])).sum()) / expected[mask].size
        assert abs(share - want) < 5 * sd
    assert (y[intermittent] > 0).mean() < p


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = write_catalogue(SMALL, tmp_path / "a")
    b = write_catalogue(SMALL, tmp_path / "b")
    c = write_catalogue(CatalogueParams(items=6, stores=5, regional_dcs=2, seed=4), tmp_path / "c")
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert "on_order.csv" in names and "lead_times.csv" in names
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "demand.csv").read_bytes() != (c / "demand.csv").read_bytes()


def test_parquet_demand(tmp_path: Path) -> None:
    params = CatalogueParams(items=4, stores=3, regional_dcs=1, demand_format="parquet")
    write_catalogue(params, tmp_path / "a")
    write_catalogue(params, tmp_path / "b")
    assert not (tmp_path / "a" / "demand.csv").exists()
    data = (tmp_path / "a" / "demand.parquet").read_bytes()
    assert data == (tmp_path / "b" / "demand.parquet").read_bytes()
    df = pd.read_parquet(tmp_path / "a" / "demand.parquet")
    csv = (
        write_catalogue(CatalogueParams(items=4, stores=3, regional_dcs=1), tmp_path / "c")
        / "demand.csv"
    )
    assert df["y"].tolist() == pd.read_csv(csv)["y"].tolist()


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="items"):
        CatalogueParams(items=0)
    with pytest.raises(ValueError, match="as_of"):
        CatalogueParams(as_of=CatalogueParams().as_of.replace(day=6))  # a Tuesday


@settings(max_examples=15, deadline=None)
@given(
    items=st.integers(1, 30),
    stores=st.integers(1, 12),
    share=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_drawn_parameters_are_in_range(items: int, stores: int, share: float, seed: int) -> None:
    params = CatalogueParams(
        items=items, stores=stores, regional_dcs=1, intermittent_share=share, seed=seed
    )
    draw = _draw(params)
    assert draw.intermittent.sum() == round(share * items)
    assert draw.mean.shape == (items, stores, params.weeks)
    per_item = draw.mean.mean(axis=(1, 2)) * stores / draw.mean.shape[1]
    assert (draw.mean > 0).all() and np.isfinite(per_item).all()
    lo, hi = params.unit_cost_range
    assert ((draw.unit_cost >= lo - 0.005) & (draw.unit_cost <= hi + 0.005)).all()
    assert set(draw.pack_size[~draw.intermittent]) <= set(params.pack_sizes)
