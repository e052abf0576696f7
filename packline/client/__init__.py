"""CLI clients of the line controller daemon: ``packline lot|station|alarm|unit|recipe list``.

They talk to a running ``packline serve`` over its HTTP API (:mod:`packline.web`)
through httpx: :mod:`.api` sends requests, :mod:`.render` prints tables, and
:mod:`.commands` declares the subcommands and runs them.
"""
