"""The rolling shadow mode's item sample (``config.shadow_sample_items``): stratified by ABC
class, reproducible, every item of a small catalogue, and the context restricted to it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from echelon.plan.catalogue import CatalogueParams, write_catalogue
from echelon.plan.context import PlanContext
from echelon.plan.data import load_context
from echelon.plan.model import PlanConfig
from echelon.plan.shadow_sample import item_classes, sample_context, shadow_sample


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> PlanContext:
    folder = tmp_path_factory.mktemp("cat") / "items-40"
    write_catalogue(CatalogueParams(items=40, stores=3, regional_dcs=1, history_weeks=30), folder)
    return load_context(folder)


def with_sample(ctx: PlanContext, size: int | None, seed: int = 0) -> PlanContext:
    cfg = ctx.config.model_copy(update={"shadow_sample_items": size, "seed": seed})
    return PlanContext(**{**ctx.__dict__, "config": cfg})


def test_classes_follow_the_demand_value(catalogue: PlanContext) -> None:
    classes = item_classes(catalogue)
    assert set(classes) == set(catalogue.items)
    units = catalogue.history.groupby("item_id")["y"].sum()
    value = {i: float(units.get(i, 0.0)) * r.unit_cost for i, r in catalogue.items.items()}
    top = max(value, key=lambda i: value[i])
    assert classes[top] == "A"
    ranks = {"A": 0, "B": 1, "C": 2}
    for i in value:
        for j in value:
            if value[i] > value[j]:
                assert ranks[classes[i]] <= ranks[classes[j]]
    assert set(classes.values()) == {"A", "B", "C"}


def test_a_small_catalogue_keeps_every_item(catalogue: PlanContext) -> None:
    for size in (None, 40, 500):
        ctx = with_sample(catalogue, size)
        assert shadow_sample(ctx) == catalogue.item_ids
        assert sample_context(ctx, shadow_sample(ctx)) is ctx


def test_the_sample_is_stratified_and_reproducible(catalogue: PlanContext) -> None:
    ctx = with_sample(catalogue, 10)
    picked = shadow_sample(ctx)
    assert picked == shadow_sample(ctx) == sorted(picked)
    assert 10 <= len(picked) <= 12 and len(set(picked)) == len(picked)
    classes = item_classes(ctx)
    assert {classes[i] for i in picked} == set(classes.values())  # every class is represented
    others = {tuple(shadow_sample(with_sample(catalogue, 10, seed=s))) for s in range(5)}
    assert len(others) > 1  # the seed draws the items


def test_the_sampled_context_holds_only_the_sample(catalogue: PlanContext) -> None:
    ctx = with_sample(catalogue, 10)
    picked = shadow_sample(ctx)
    sub = sample_context(ctx, picked)
    assert sub.item_ids == picked
    assert set(sub.history["item_id"]) <= set(picked)
    assert set(sub.demand["item_id"]) <= set(picked)
    full = catalogue.history[catalogue.history["item_id"].isin(picked)]
    assert len(sub.history) == len(full) > 0


def test_the_option_is_validated() -> None:
    assert PlanConfig().shadow_sample_items == 500
    assert PlanConfig(shadow_sample_items=None).shadow_sample_items is None
    for bad in (0, -3, 2.5, True, "10"):
        with pytest.raises(ValidationError, match="shadow_sample_items"):
            PlanConfig(shadow_sample_items=bad)
