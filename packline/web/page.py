"""The operator page: ``GET /`` (static HTML, JS and CSS shipped in the package, no build step)
and ``GET /events``, a server-sent event stream of the line as the page shows it.

The stream sends a ``line`` event with the whole view whenever it changed (checked every
:data:`POLL_S`), so the page is at most that late; a comment every :data:`KEEPALIVE_S` keeps
proxies and the browser from dropping an idle stream.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from packline.vocabulary import (
    DESTRUCTIVE_COMMANDS,
    LOT_COMMANDS,
    ROLES,
    STATION_COMMANDS,
    STATION_SERVICE_COMMANDS,
)
from packline.web.security import Reader

STATIC = Path(str(files("packline.web") / "static"))
POLL_S = 0.4
KEEPALIVE_S = 15.0
#: Shifts start at these local hours; the page's E10 bars cover the shift in progress.
SHIFT_START_HOURS = (6, 14, 22)

router = APIRouter(include_in_schema=False)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC)


def shift_start(now: float) -> float:
    """The start of the shift ``now`` falls in (local time; shifts begin at 06, 14 and 22 h)."""
    moment = dt.datetime.fromtimestamp(now)
    starts = [moment.replace(hour=h, minute=0, second=0, microsecond=0) for h in SHIFT_START_HOURS]
    earlier = [s for s in starts if s <= moment]
    if earlier:
        return max(earlier).timestamp()
    return (starts[-1] - dt.timedelta(days=1)).timestamp()


@router.get("/")
def operator_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/vocabulary.json")
def vocabulary() -> dict[str, Any]:
    """The words the page needs, from the one vocabulary module (so the page cannot offer a
    command the API does not know)."""
    return {
        "lot_commands": list(LOT_COMMANDS),
        "station_commands": list(STATION_COMMANDS),
        "station_service_commands": list(STATION_SERVICE_COMMANDS),
        "destructive_commands": list(DESTRUCTIVE_COMMANDS),
        "roles": list(ROLES),
    }


@router.get("/events")
async def events(request: Request, _: Reader) -> StreamingResponse:
    """The line as the page shows it, as server-sent events."""
    controller = request.app.state.controller

    async def stream() -> AsyncIterator[str]:
        last = ""
        quiet_since = time.monotonic()
        yield "retry: 1000\n\n"
        while not getattr(request.app.state, "stopping", False):
            if await request.is_disconnected():
                return
            view: Any = await run_in_threadpool(controller.line_view, shift_start(time.time()))
            text = json.dumps(view, default=str, separators=(",", ":"))
            if text != last:
                last, quiet_since = text, time.monotonic()
                yield f"event: line\ndata: {text}\n\n"
            elif time.monotonic() - quiet_since > KEEPALIVE_S:
                quiet_since = time.monotonic()
                yield ": still here\n\n"
            await asyncio.sleep(POLL_S)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
