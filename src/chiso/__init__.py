"""chiso: a data warehouse for the Decision 766 service-quality index at commune level."""

__version__ = "0.1.0"

# GX logs a line per function its docs decorator skips, hundreds per import, at INFO:
# noise in every task log.
import logging as _logging  # noqa: E402

_logging.getLogger("great_expectations._docs_decorators").setLevel(_logging.WARNING)
