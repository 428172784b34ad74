"""Number formatting for the report: one convention per kind of number.

- money: thousands separators, no decimals, the currency code after (``12,345 USD``);
- units (quantities of an item): one decimal (``1,234.5``);
- fractions (fill rate, cycle service level, saving): percent with one decimal (``95.1%``);
- periods, days, turns: one decimal with the unit (``3.0``, ``23.4 d``, ``8.2/yr``).

A missing value (None, NaN, ±inf) prints as an em dash.
"""

from __future__ import annotations

import math

DASH = "—"


def _missing(x: float | None) -> bool:
    return x is None or not math.isfinite(float(x))


def num(x: float | None, digits: int = 1) -> str:
    """``x`` with thousands separators and ``digits`` decimals."""
    if _missing(x):
        return DASH
    assert x is not None
    return f"{float(x):,.{digits}f}"


def units(x: float | None) -> str:
    """A quantity in units of the item (one decimal)."""
    return num(x, 1)


def money(x: float | None, currency: str = "") -> str:
    """An amount of money, no decimals, followed by the currency code when given."""
    text = num(x, 0)
    return f"{text} {currency}" if currency and text != DASH else text


def pct(x: float | None, digits: int = 1, signed: bool = False) -> str:
    """A fraction (0–1) as a percentage; ``signed`` puts ``+`` before positive values."""
    if _missing(x):
        return DASH
    assert x is not None
    return f"{100 * float(x):{'+' if signed else ''},.{digits}f}%"


def pct_ci(x: float | None, half_width: float | None) -> str:
    """A fraction with the half width of its 95% confidence interval in percentage points
    (``± <0.1`` when it is positive but rounds to 0.0)."""
    text = pct(x)
    if text == DASH or _missing(half_width):
        return text
    assert half_width is not None
    return f"{text} ± {ci_points(half_width)}"


def ci_points(half_width: float) -> str:
    """The half width of a confidence interval of a fraction, in percentage points, one
    decimal (``<0.1`` when it is positive but rounds to 0.0)."""
    points = 100 * abs(float(half_width))
    return "<0.1" if 0 < points < 0.05 else f"{points:.1f}"


def days(x: float | None) -> str:
    """Days of supply."""
    text = num(x, 1)
    return text if text == DASH else f"{text} d"


def turns(x: float | None) -> str:
    """Inventory turns per year."""
    text = num(x, 1)
    return text if text == DASH else f"{text}/yr"


def yes_no(flag: bool | None) -> str:
    """``yes`` / ``no`` / a dash when unknown."""
    return DASH if flag is None else ("yes" if flag else "no")
