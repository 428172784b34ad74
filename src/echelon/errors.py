"""The echelon error hierarchy.

Every error caused by a user's input derives from :class:`InputError`; its message is one line
that names the file, the place in it (node, lane, row), the field, what was expected, what was
found, and how to fix it. The CLI prints that line and exits with status 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar


class EchelonError(Exception):
    """Base class of all errors raised by echelon."""


E = TypeVar("E", bound="InputError")


@dataclass
class InputError(EchelonError):
    """Bad input: a file, table or parameter that cannot be used as given.

    Attributes are optional so that an error found deep in the code can be raised with what is
    known and completed (for example with ``source``) by the caller that knows the file name.
    """

    message: str
    source: str | None = None
    where: str | None = None
    field: str | None = None
    expected: str | None = None
    found: str | None = None
    fix: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The single-line message shown to users."""
        parts = []
        head = ": ".join(p for p in (self.source, self.where) if p)
        if head:
            parts.append(head + ":")
        if self.field:
            parts.append(f"field '{self.field}':")
        parts.append(self.message)
        if self.expected is not None:
            parts.append(f"(expected {self.expected}")
            parts[-1] += f", found {self.found})" if self.found is not None else ")"
        elif self.found is not None:
            parts.append(f"(found {self.found})")
        line = " ".join(parts)
        if self.fix:
            line += f" — fix: {self.fix}"
        return line.replace("\n", " ")

    def __str__(self) -> str:
        return self.one_line()

    def recast(self, cls: type[E]) -> E:
        """The same error (every field) as another InputError subclass."""
        return cls(
            self.message, source=self.source, where=self.where, field=self.field,
            expected=self.expected, found=self.found, fix=self.fix,
        )  # fmt: skip

    def with_source(self, source: str) -> InputError:
        """Return this error with the file name filled in (if it was not already)."""
        if self.source is None:
            self.source = source
            self.args = (self.one_line(),)
        return self


class NetworkError(InputError):
    """The supply network is malformed (schema, graph or value errors)."""


class PolicyError(InputError):
    """The policy file is malformed or does not match the network."""


class ScenarioError(InputError):
    """The scenario (disruption) file is malformed or does not match the network."""


class DataError(InputError):
    """A data table (demand history, inventory snapshot, ...) is malformed."""


class OptimizationError(InputError):
    """Optimization inputs that cannot be met: a budget below the minimum, infeasible service
    times, a network without demand, service-target files that do not apply."""
