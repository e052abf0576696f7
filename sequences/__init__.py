"""packline sequences: line configuration, process steps, routes, recipes and the lot runner.

Uses drivers/ only; never the application (packline/) nor the simulators (sim/).
"""
