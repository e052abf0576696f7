"""Benchmarks of packline: run on purpose (``make bench`` or ``python -m benchmarks NAME``),
never by ``make test``. Each prints the figures and ratios it measured in one run."""
