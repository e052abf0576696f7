"""packline: the application — CLI, simulated-line service, dry runs (and, later, the daemon)."""

__version__ = "0.1.0"
