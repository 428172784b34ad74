"""The HTML report of a plan run: one self-contained file (Plotly bundled, works offline).

- :func:`render_report` — a :class:`~echelon.plan.model.PlanResult` → the HTML text;
- :func:`write_report` — render and write it atomically to a path.
"""

from echelon.report.html import render_report, write_report

__all__ = ["render_report", "write_report"]
