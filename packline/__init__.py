"""packline: the application — the ``packline`` CLI, dry runs and the lot report, the line
controller daemon (SQLite store, HTTP API, its CLI clients) and the simulated-line service."""

__version__ = "0.1.0"
