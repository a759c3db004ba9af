"""chiso: a data warehouse for the Decision 766 service-quality index at commune level."""

__version__ = "0.1.0"
