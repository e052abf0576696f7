"""The line controller daemon (``packline serve``): store, controller, HTTP API."""
