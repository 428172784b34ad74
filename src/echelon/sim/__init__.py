"""The simulation digital twin: numba batch engine and step engine over one sequence of events."""
