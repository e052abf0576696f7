"""The daemon's web stack: the JSON API, the operator page and its live events (FastAPI + uvicorn).

HTTP lives here and only here: the controller and the store below speak Python and raise the
domain errors of :mod:`packline.errors`, which :mod:`packline.web.errors` turns into answers.
"""
