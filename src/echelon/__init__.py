"""echelon: multi-echelon inventory optimization.

Rooms of the package:

- :mod:`echelon.network`  — the typed supply-network model, file formats, importers, validation.
- :mod:`echelon.policies` — inventory policy kinds and the policy file.
- :mod:`echelon.sim`      — the simulation digital twin (numba batch engine, step engine).
- :mod:`echelon.cli`      — the ``echelon`` console command (a thin layer over the above).

The sequence of events in a period and every cost convention are in ``docs/model.md``.
"""

__version__ = "0.1.0"
