"""The exception hierarchy: one root, :class:`ImrGraphError`, and specific subclasses.

Every error the library raises on purpose is an ``ImrGraphError``. Its ``str()`` is a single
line that names the file (or query, or store) and the problem, so the CLI can print it as is.
``exit_code`` says what the CLI exits with when the error ends the whole command
(1: an input failed or data does not conform; 2: usage or configuration error).
"""

from __future__ import annotations

from pathlib import Path


class ImrGraphError(Exception):
    """Root of every error raised by imr-graph on purpose."""

    exit_code: int = 1

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        self.path = str(path) if path is not None else None
        self.message = " ".join(str(message).split())
        super().__init__(f"{self.path}: {self.message}" if self.path else self.message)


class InputError(ImrGraphError):
    """A file could not be read: missing, empty, binary, not decodable."""


class PdfError(InputError):
    """A PDF could not be opened or its text extracted (broken, encrypted with a password)."""


class NotALetterError(InputError):
    """The text is readable but is not an IMR final determination letter."""


class UnsupportedLayoutError(InputError):
    """An IMR letter in a layout this parser does not support yet (e.g. 2013-2014 letters)."""


class ParseError(InputError):
    """The letter looked right but a required part could not be read."""


class UsageError(ImrGraphError):
    """Bad arguments or configuration."""

    exit_code = 2


class QueryError(ImrGraphError):
    """A SPARQL query is malformed, unknown, missing parameters, or failed to run."""

    exit_code = 2


class StoreError(ImrGraphError):
    """The triple store could not be opened, read or written."""

    exit_code = 2


class CaseConflictError(InputError):
    """Another letter of the same case with a later decision date is already stored."""


class ValidationError(ImrGraphError):
    """Data does not conform to the shapes or to the record schema."""


class ShapesError(ImrGraphError):
    """The SHACL shapes (``ontology/shapes.ttl``) cannot be used for validation."""

    exit_code = 2


class MappingError(InputError):
    """A record could not be turned into RDF (e.g. a span outside the letter text)."""


class NotFoundError(ImrGraphError):
    """A case, graph or canned query named on the command line does not exist (a usage error)."""

    exit_code = 2


class RemoteWriteError(ImrGraphError):
    """A remote triple store did not accept one case (after retries); the other cases go on."""


class StoreInUseError(StoreError):
    """The store is locked by another process (an ingest writing it)."""


class OutputError(UsageError):
    """An output file (``--out``, ``--errors``, ``-o``) cannot be written: a usage error."""
