"""Reports of a lot over HTTP: the lot report (JSON, self-contained HTML), the unit export (CSV)
and SPC charts (JSON, PNG, and a page with every value's chart)."""

from __future__ import annotations

import html
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from packline import spc
from packline.errors import NotFound
from packline.lot_reports import LotReports, safe_file_part
from packline.vocabulary import ID_PATTERN
from packline.web.api import ERRORS, known_query_only
from packline.web.security import Reader

router = APIRouter(responses=ERRORS, tags=["reports"], dependencies=[Depends(known_query_only)])

LotId = Annotated[str, Path(pattern=ID_PATTERN, description="a lot id")]
Value = Annotated[
    str,
    Path(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="a measured value, e.g. coplanarity_um"),
]


def reports(request: Request) -> LotReports:
    found: LotReports | None = getattr(request.app.state, "reports", None)
    if found is None:
        raise NotFound("this server keeps no lot records (reports need the daemon's store)")
    return found


@router.get("/lots/{lot_id}/report", response_model=dict[str, Any])
async def lot_report(request: Request, lot_id: LotId, _: Reader) -> Any:
    """Yield per step, defect Pareto, alarms, cycle times, throughput against the bottleneck."""
    return await run_in_threadpool(reports(request).report, lot_id)


@router.get(
    "/lots/{lot_id}/report.html",
    response_class=Response,  # errors stay documented as JSON
    responses={200: {"content": {"text/html": {}}, "description": "one self-contained page"}},
)
async def lot_report_html(request: Request, lot_id: LotId, _: Reader) -> HTMLResponse:
    """The lot report as one HTML page with the occupancy chart embedded."""
    return HTMLResponse(await run_in_threadpool(reports(request).html, lot_id))


@router.get(
    "/lots/{lot_id}/export.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "one row per unit per step"}},
)
async def lot_export(request: Request, lot_id: LotId, _: Reader) -> Response:
    """Every unit at every step with its measured values, one column per value."""
    text = await run_in_threadpool(reports(request).csv, lot_id)
    name = f"lot-{safe_file_part(lot_id)}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/lots/{lot_id}/spc", response_model=list[str])
async def spc_values(request: Request, lot_id: LotId, _: Reader) -> Any:
    """The measured values of the lot that SPC charts are made for."""
    records = await run_in_threadpool(reports(request).records, lot_id)
    return spc.measured_values(records)


@router.get(
    "/lots/{lot_id}/spc/{value}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "the I-MR chart"}},
)
async def spc_png(request: Request, lot_id: LotId, value: Value, _: Reader) -> Response:
    """The individuals / moving-range chart of a value as PNG."""
    chart = await run_in_threadpool(_chart, request, lot_id, value)
    return Response(await run_in_threadpool(spc.png, chart), media_type="image/png")


@router.get("/lots/{lot_id}/spc/{value}", response_model=spc.SpcChart)
async def spc_chart(request: Request, lot_id: LotId, value: Value, _: Reader) -> Any:
    """A value's I-MR chart data: points, centre, control and spec limits, Cpk."""
    return await run_in_threadpool(_chart, request, lot_id, value)


@router.get("/lots/{lot_id}/spc.html", response_class=HTMLResponse, include_in_schema=False)
async def spc_page(request: Request, lot_id: LotId, _: Reader) -> HTMLResponse:
    """Every value's chart of the lot on one page, with Cpk where the recipe has limits."""
    records = await run_in_threadpool(reports(request).records, lot_id)
    rows = []
    for value in spc.measured_values(records):
        chart = spc.spc(records, value)
        cpk = "–" if chart.cpk is None else f"{chart.cpk:.2f}"
        rows.append(
            f"<section><h2>{html.escape(value)} ({html.escape(chart.step)}), Cpk {cpk}</h2>"
            f"<img loading='lazy' width='1000' height='600' src='spc/{html.escape(value)}.png' "
            f"alt='I-MR chart of {html.escape(value)}'></section>"
        )
    title = f"SPC of lot {html.escape(lot_id)}"
    return HTMLResponse(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        "<style>body{font-family:sans-serif;margin:1em}img{max-width:100%;height:auto}</style>"
        f"</head><body><h1>{title}</h1>{''.join(rows)}</body></html>"
    )


def _chart(request: Request, lot_id: str, value: str) -> spc.SpcChart:
    return spc.spc(reports(request).records(lot_id), value)
