"""The planner's workspace: a web app and a REST API over the run store (``echelon serve``).

Layout: :mod:`echelon.server.app` (``create_app``), :mod:`~echelon.server.auth` (sessions,
CSRF, tokens, roles), :mod:`~echelon.server.workspace` (what the pages show, computed from
storage and report), :mod:`~echelon.server.web` (rendering), ``routes/`` (thin routes),
``templates/`` and ``static/`` (htmx vendored; plotly.js served from the ``plotly`` package).
"""
