"""The LSTM nowcaster: a series' unreported day from its last four weeks and the reporting
stores' sales of the same item (torch, CPU, deterministic for a seed).

For a target cell (series s, day t) the input is the window of the :data:`WINDOW` days ending
on t, three features per day: the series' demand (0 where not reported) divided by its mean
over the window's first 21 days, a reported flag, and the summed demand of the *other* stores
of the item that reported day t, divided by that sum's mean over the same 21 days. The LSTM
(one layer, :data:`HIDDEN` units) reads the window and a linear layer gives the day's demand in
units of the series' scale; the loss is the absolute error (WAPE is the score).

Training uses the history only: every series and day with the last 1 or 2 own days masked at
random (as a late store), the other stores as reporters. Everything lives in one process; no
file is read or written, nothing is downloaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from echelon.monitor.nowcast import MASK_DAYS, Panel

if TYPE_CHECKING:
    import torch

WINDOW = 28  # days per input window
SCALE_DAYS = 21  # the window's first days, whose mean scales the features
HIDDEN = 32
EPOCHS = 6
BATCH = 256
MAX_SAMPLES = 24_000
LEARNING_RATE = 3e-3


def _windows(y: np.ndarray, rows: np.ndarray, days: np.ndarray) -> np.ndarray:
    """``y[rows, days − WINDOW + 1 .. days]`` per sample: (samples, WINDOW)."""
    cols = days[:, None] + np.arange(-WINDOW + 1, 1)[None, :]
    return y[rows[:, None], cols]


def features(
    own: np.ndarray, known: np.ndarray, reporters: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(samples, WINDOW, 3) inputs and (samples,) own scales from the raw windows (module doc);
    ``own`` is 0 where not ``known``."""
    scale = np.maximum(
        own[:, :SCALE_DAYS].sum(1) / np.maximum(known[:, :SCALE_DAYS].sum(1), 1), 1e-3
    )
    rep_scale = np.maximum(reporters[:, :SCALE_DAYS].mean(1), 1e-3)
    x = np.stack([own / scale[:, None], known.astype(float), reporters / rep_scale[:, None]], -1)
    return x.astype(np.float32), scale


class LstmNowcaster:
    """Fit on a panel's history (:meth:`fit`), then nowcast target cells (``__call__``)."""

    name = "lstm"

    def __init__(self, seed: int = 0, epochs: int = EPOCHS) -> None:
        self.seed = seed
        self.epochs = epochs
        self.model: torch.nn.Module | None = None

    def fit(self, p: Panel, end: int | None = None) -> LstmNowcaster:
        """Train on the days up to ``end`` (default: all) of ``p`` (module doc)."""
        import torch

        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        y = p.y if end is None else p.y[:, : end + 1]
        known = ~np.isnan(y)
        y0 = np.nan_to_num(y)
        items = p.items
        names, item_of = np.unique(items, return_inverse=True)
        totals = np.stack([y0[item_of == k].sum(0) for k in range(len(names))])
        grid_rows, grid_days = np.meshgrid(np.arange(y.shape[0]), np.arange(WINDOW, y.shape[1]))
        rows, days = grid_rows.ravel(), grid_days.ravel()
        ok = known[rows, days]
        rows, days = rows[ok], days[ok]
        pick = rng.permutation(len(rows))[:MAX_SAMPLES]
        rows, days = rows[pick], days[pick]
        own = _windows(y0, rows, days)
        seen = _windows(known, rows, days).copy()
        masked = rng.choice(MASK_DAYS, size=len(rows))
        for k in MASK_DAYS:  # the last k own days unknown
            seen[masked == k, WINDOW - k :] = False
        target = own[:, -1].copy()
        own = np.where(seen, own, 0.0)
        rep = _windows(totals, item_of[rows], days) - _windows(y0, rows, days)
        x, scale = features(own, seen, rep)
        xs = torch.from_numpy(x)
        ys = torch.from_numpy((target / scale).astype(np.float32))
        self.model = _Net()
        opt = torch.optim.Adam(self.model.parameters(), lr=LEARNING_RATE)
        for _ in range(self.epochs):
            order = torch.from_numpy(rng.permutation(len(xs)))
            for start in range(0, len(xs), BATCH):
                batch = order[start : start + BATCH]
                opt.zero_grad()
                loss = torch.nn.functional.l1_loss(self.model(xs[batch]), ys[batch])
                loss.backward()
                opt.step()
        return self

    def __call__(self, p: Panel, targets: np.ndarray) -> np.ndarray:
        """Estimates at the ``targets`` cells (NaN elsewhere); the reporters of a cell are the
        other stores of its item that reported its day."""
        import torch

        if self.model is None:
            raise RuntimeError("LstmNowcaster.fit first")
        out = np.full(p.y.shape, np.nan)
        rows, days = np.nonzero(targets & (np.arange(p.y.shape[1]) >= WINDOW)[None, :])
        if len(rows) == 0:
            return np.where(targets, 0.0, out)
        known = ~np.isnan(p.y) & ~targets
        y0 = np.where(known, np.nan_to_num(p.y), 0.0)
        items = p.items
        rep = np.zeros((len(rows), WINDOW))
        for n, (r, t) in enumerate(zip(rows, days, strict=True)):
            others = (items == items[r]) & known[:, t]
            others[r] = False
            rep[n] = y0[others][:, t - WINDOW + 1 : t + 1].sum(0)
        x, scale = features(_windows(y0, rows, days), _windows(known, rows, days), rep)
        with torch.no_grad():
            pred = self.model(torch.from_numpy(x)).numpy()
        out[rows, days] = np.maximum(pred, 0.0) * scale
        return np.where(targets, np.nan_to_num(out), np.nan)


def _Net() -> torch.nn.Module:
    import torch

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(3, HIDDEN, batch_first=True)
            self.head = torch.nn.Linear(HIDDEN, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h, _ = self.lstm(x)
            return self.head(h[:, -1, :]).squeeze(-1)

    return Net()
