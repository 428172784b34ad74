"""``echelon forecast`` and ``echelon backtest``: probabilistic demand forecasts.

Input: long-format demand (CSV or Parquet) with columns unique_id/ds/y or mapped with
--id-col/--ds-col/--y-col. Output (Parquet or CSV by extension): unique_id, ds, mean and one
column per quantile (q0.5, q0.9, …); lead-time demand optionally to a second file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from echelon.errors import DataError
from echelon.fileio import check_output_path

#: the ``--engine`` choices (:mod:`echelon.forecast.engine`; ``auto`` as plan.yaml's)
ENGINE_HELP = (
    "statsforecast | batched (every series of a model at once) | auto (batched on large "
    "inputs, as plan.yaml's forecast_engine)"
)

console = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else 160)


def _floats(text: str, what: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise DataError(
            f"bad {what} list",
            field=what,
            expected="comma-separated numbers",
            found=repr(text),
            fix="e.g. 0.5,0.9,0.95",
        ) from exc


def _names(text: str | None) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()] if text else []


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, float], None]]:
    """Rich progress bars on stderr; yields ``update(stage, fraction_done)``."""
    if not enabled:
        yield lambda stage, frac: None
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    tasks: dict[str, TaskID] = {}
    with bar:

        def update(stage: str, frac: float) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=100)
            bar.update(tasks[stage], completed=100 * frac)

        yield update


def _load(
    demand: Path,
    id_col: str,
    ds_col: str,
    y_col: str,
    freq: str | None,
    stockout_col: str | None,
    exog: str | None,
    fill_gaps: bool,
    group_col: str | None,
):
    from echelon.forecast.data import load_demand

    ids = _names(id_col)
    return load_demand(
        demand,
        id_col=ids if len(ids) > 1 else ids[0],
        ds_col=ds_col,
        y_col=y_col,
        freq=freq,
        stockout_col=stockout_col,
        exog=_names(exog),
        fill_gaps=fill_gaps,
        statics=[group_col] if group_col else None,
    )


def _check_out(out: Path, *inputs: Path | None) -> None:
    """An output file that can be written: not a folder, a device or one of the ``inputs``."""
    protected = [p for p in inputs if p is not None]
    check_output_path(out, protected=protected, what="the output file", error=DataError)
    if not out.parent.exists():
        raise DataError(
            "output folder does not exist",
            source=str(out),
            expected="an existing folder",
            found=str(out.parent),
            fix="create the folder first",
        )


def _levels(quantiles: str, lead_time: str | None) -> tuple[list[float], list[int]]:
    """The quantile levels and lead times (periods) given on the command line."""
    taus = _floats(quantiles, "quantiles")
    lts = [int(x) for x in _floats(lead_time, "lead-time")] if lead_time else []
    return taus, lts


def register(app: typer.Typer) -> None:
    """Add ``forecast`` and ``backtest`` to the echelon app."""

    @app.command("forecast")
    def forecast_cmd(
        demand: Path = typer.Argument(..., help="demand history, long format (CSV/Parquet)"),
        horizon: int = typer.Option(..., "--horizon", "-H", help="periods to forecast"),
        out: Path = typer.Option(..., "--out", "-o", help="output file (.parquet or .csv)"),
        quantiles: str = typer.Option(
            "0.05,0.1,0.25,0.5,0.75,0.9,0.95",
            "--quantiles",
            "-q",
            help="quantile levels, comma-separated",
        ),
        lead_time: str | None = typer.Option(
            None, "--lead-time", "-L", help="lead times in periods, e.g. 2,3"
        ),
        leadtime_out: Path | None = typer.Option(
            None, "--leadtime-out", help="file for lead-time demand"
        ),
        id_col: str = typer.Option("unique_id", "--id-col", help="series key column(s)"),
        ds_col: str = typer.Option("ds", "--ds-col", help="date column"),
        y_col: str = typer.Option("y", "--y-col", help="quantity column"),
        freq: str | None = typer.Option(None, "--freq", help="pandas frequency (D, W, MS)"),
        stockout_col: str | None = typer.Option(
            None, "--stockout-col", help="0/1 stockout flag column"
        ),
        exog: str | None = typer.Option(None, "--exog", help="exogenous columns (LightGBM)"),
        future: Path | None = typer.Option(None, "--future", help="future exogenous values"),
        group_col: str | None = typer.Option(
            None, "--group-col", help="group for short histories (e.g. dept)"
        ),
        lgbm: bool = typer.Option(False, "--lgbm", help="add the global LightGBM candidate"),
        windows: int = typer.Option(2, "--windows", help="backtest windows for selection"),
        fill_gaps: bool = typer.Option(False, "--fill-gaps", help="fill missing periods with 0"),
        explain: Path | None = typer.Option(
            None, "--explain", help="file for LightGBM SHAP contributions"
        ),
        seed: int = typer.Option(0, "--seed", help="random seed of the sample paths"),
        engine: str = typer.Option("auto", "--engine", help=ENGINE_HELP),
    ) -> None:
        """Forecast DEMAND: quantiles per period and lead-time demand per series."""
        from echelon.forecast.data import read_table, write_table
        from echelon.forecast.engine import resolve_engine
        from echelon.forecast.service import Settings, forecast

        resolve_engine(engine, 0)  # an unknown engine fails before the data is read
        for path in (out, leadtime_out, explain):
            if path is not None:
                _check_out(path, demand, future)
        data = _load(demand, id_col, ds_col, y_col, freq, stockout_col, exog, fill_gaps, group_col)
        taus, lts = _levels(quantiles, lead_time)
        st = Settings(
            horizon=horizon,
            taus=taus,
            lead_times=lts,
            lgbm=lgbm,
            n_windows=windows,
            seed=seed,
            group_col=group_col,
            engine=resolve_engine(engine, data.n_series),
        )
        xf = None
        if future is not None:
            from echelon.forecast.data import validate_demand

            fr = read_table(future)
            fr[y_col] = fr.get(y_col, 0)
            xf = validate_demand(
                fr,
                source=str(future),
                id_col=_names(id_col),
                ds_col=ds_col,
                y_col=y_col,
                exog=data.exog,
                freq=data.freq,
            ).df
        with _progress(sys.stderr.isatty()) as update:
            res = forecast(data, st, X_future=xf, progress=update, explain=explain is not None)
        cols = [
            "unique_id",
            "ds",
            "mean",
            *[str(c) for c in res.forecasts.columns if str(c).startswith("q")],
            "model",
        ]
        write_table(res.forecasts[cols], out)
        if leadtime_out is not None and not res.leadtime.empty:
            write_table(res.leadtime, leadtime_out)
        if explain is not None and res.explanations is not None:
            write_table(res.explanations, explain)
        t = Table(title="champion per demand class")
        for c in ("class", "champion", "series", "why"):
            t.add_column(c)
        n_cls = res.classes["demand_class"].value_counts()
        for r in res.champions.itertuples():
            t.add_row(
                str(r.demand_class),
                str(r.champion),
                str(n_cls.get(r.demand_class, 0)),
                str(getattr(r, "reason", "")),
            )
        console.print(t)
        console.print(f"wrote {len(res.forecasts):,} rows for {data.n_series:,} series to {out}")

    @app.command("backtest")
    def backtest_cmd(
        demand: Path = typer.Argument(..., help="demand history, long format (CSV/Parquet)"),
        horizon: int = typer.Option(..., "--horizon", "-H", help="periods per window"),
        windows: int = typer.Option(3, "--windows", "-w", help="walk-forward cutoffs"),
        step: int | None = typer.Option(None, "--step", help="periods between cutoffs"),
        quantiles: str = typer.Option("0.05,0.1,0.25,0.5,0.75,0.9,0.95", "--quantiles", "-q"),
        lead_time: str | None = typer.Option(None, "--lead-time", "-L"),
        out: Path | None = typer.Option(None, "--out", "-o", help="per-series scores file"),
        id_col: str = typer.Option("unique_id", "--id-col"),
        ds_col: str = typer.Option("ds", "--ds-col"),
        y_col: str = typer.Option("y", "--y-col"),
        freq: str | None = typer.Option(None, "--freq"),
        stockout_col: str | None = typer.Option(None, "--stockout-col"),
        exog: str | None = typer.Option(None, "--exog"),
        lgbm: bool = typer.Option(False, "--lgbm"),
        fill_gaps: bool = typer.Option(False, "--fill-gaps"),
        seed: int = typer.Option(0, "--seed"),
        engine: str = typer.Option("auto", "--engine", help=ENGINE_HELP),
    ) -> None:
        """Walk-forward backtest of all candidates; champion per demand class; calibration."""
        from echelon.forecast import metrics as mt
        from echelon.forecast.data import write_table
        from echelon.forecast.engine import resolve_engine
        from echelon.forecast.service import Settings, backtest

        resolve_engine(engine, 0)  # an unknown engine fails before the data is read
        if out is not None:
            _check_out(out, demand)
        data = _load(demand, id_col, ds_col, y_col, freq, stockout_col, exog, fill_gaps, None)
        taus, lts = _levels(quantiles, lead_time)
        st = Settings(
            horizon=horizon,
            taus=taus,
            lead_times=lts,
            lgbm=lgbm,
            n_windows=windows,
            step=step,
            seed=seed,
            engine=resolve_engine(engine, data.n_series),
        )
        with _progress(sys.stderr.isatty()) as update:
            bt = backtest(data, st, progress=update)
        summ = bt.summary(("model",))
        t = Table(title=f"backtest: {windows} windows × {horizon} periods")
        cols = ["model", "spinball", "pinball", "wape", "bias", "mase", "rmsse"]
        cols += [c for c in summ.columns if c.startswith("ltd_spinball")]
        for c in cols:
            t.add_column(c)
        for r in summ.sort_values(bt.criterion if bt.criterion in summ else "spinball")[
            cols
        ].itertuples(index=False):
            t.add_row(*[f"{v:.4f}" if isinstance(v, float) else str(v) for v in r])
        console.print(t)
        for r in bt.champions.itertuples():
            console.print(f"{r.demand_class}: [bold]{r.champion}[/] — {r.reason}")
        cal = Table(title="calibration: observed share of actuals <= q (nominal in header)")
        cal.add_column("model")
        for t_ in sorted(taus):
            cal.add_column(f"{t_:g}")
        intervals = [t_ for t_ in sorted(taus) if t_ < 0.5 and round(1 - t_, 10) in taus]
        for t_ in intervals:
            cal.add_column(f"cover {1 - 2 * t_:.0%}")
        for m, g in bt.forecasts.groupby("model"):
            tab = mt.calibration_table(g, taus)
            obs = [f"{v:.3f}" for v in tab.loc[tab["kind"] == "quantile", "observed"]]
            cov = tab.loc[tab["kind"] == "interval"].sort_values("nominal", ascending=False)
            cal.add_row(str(m), *obs, *[f"{v:.3f}" for v in cov["observed"]])
        console.print(cal)
        if out is not None:
            write_table(bt.scores, out)
            console.print(f"wrote {len(bt.scores):,} score rows to {out}")
