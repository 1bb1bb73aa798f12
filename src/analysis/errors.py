"""User-facing errors.

Every problem with the analyst's input (survey definition, wave file, raw
export) is raised as an :class:`InputError`. The ``csat`` command prints its
message as one paragraph, without a traceback, and exits non-zero.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from the analyst: names the file, and where known the row, column and what was expected."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.expected = expected
        parts = []
        if file:
            parts.append(f"{file}")
        if row is not None:
            parts.append(f"row {row}")
        if column:
            parts.append(f"column '{column}'")
        where = ", ".join(parts)
        text = f"{where}: {message}" if where else message
        if expected:
            text += f" Expected: {expected}."
        super().__init__(text)


class SurveyDefinitionError(InputError):
    """The survey definition (``params/survey.yaml``) or a wave file is invalid."""


class DataError(InputError):
    """The raw export cannot be read or does not fit the survey definition."""
