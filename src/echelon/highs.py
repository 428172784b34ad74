"""HiGHS (highspy) solver objects that stay quiet.

highspy prints a licence banner to the process's standard output when a ``Highs`` object is
constructed, before any option can be set; inside a command's output (tables, JSON) that line
is noise. :func:`quiet_highs` builds the object with file descriptor 1 pointed at /dev/null and
turns the solver's own logging off.
"""

from __future__ import annotations

import os
import sys

import highspy


def quiet_highs(**options: bool | int | float | str) -> highspy.Highs:
    """A ``highspy.Highs`` with no banner, ``output_flag`` off and the given HiGHS options
    (e.g. ``threads=1``, ``time_limit=5.0``)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    for name, value in options.items():
        h.setOptionValue(name, value)
    return h
