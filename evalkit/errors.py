"""Error types that carry enough context (file, record, field) to fix the input."""
from __future__ import annotations


class EvalkitError(Exception):
    """Base class: every error evalkit raises on purpose. The CLI prints it without a traceback."""

    exit_code = 1


class InputError(EvalkitError):
    """Bad user input: a file, a record or a field that is not what was expected."""

    exit_code = 2

    def __init__(self, message: str, *, file: object = None, record: object = None, field: object = None):
        where = []
        if file is not None:
            where.append(f"file {file}")
        if record is not None:
            where.append(f"record {record}")
        if field is not None:
            where.append(f"field {field!r}")
        self.file, self.record, self.field = file, record, field
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class SuiteError(InputError):
    """A suite file that does not validate; raised before anything runs."""


class UnknownNameError(EvalkitError, KeyError):
    """A registry lookup for a name nobody registered."""

    exit_code = 2

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class MissingResourceError(EvalkitError):
    """Weights, data or a tool that is not on this machine, with where it was looked for."""

    exit_code = 2
