"""The package's version, in one place (pyproject.toml reads it from here): the
resident's socket is named by it, without importing package metadata."""

__version__ = "0.4.0"
