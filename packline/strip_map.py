"""A strip's site maps as E142-style substrate map XML: one ``SubstrateMap`` per route step
the strip has a result for, on the strip's layout (rows x cols), one bin code per site and
the bin code table.

Site k of a map (README §4: site = (row - 1) x cols + col, site 1 nearest the datum corner)
is the k-th bin code reading the ``BinCode`` rows from the first: the first ``BinCode`` row
is row 1 of the strip, its first character col 1 (``OriginLocation="UpperLeft"`` with the
strip viewed from the die side and its datum corner upper left).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

NAMESPACE = "urn:semi-org:xsd.E142-1.V1005.SubstrateMap"
BIN_CODES = (
    ("P", "Pass", "passed the step"),
    ("F", "Fail", "failed the step (defect code in the unit's genealogy)"),
    ("X", "Fail", "not present: skipped as known bad before the step"),
    ("N", "Other", "not processed: the cycle ended before the site"),
)


def strip_map_xml(strip: Mapping[str, Any], lot: Mapping[str, Any]) -> str:
    """The XML of ``strip`` (as the store's ``strip()`` gives it) of ``lot`` (``lot()``)."""
    rows, cols = int(lot["rows"]), int(lot["cols"])
    root = ET.Element("MapData", xmlns=NAMESPACE)
    layouts = ET.SubElement(root, "Layouts")
    layout = ET.SubElement(
        layouts, "Layout", LayoutId="Strip", DefaultUnits="site", TopLevel="true"
    )
    ET.SubElement(layout, "Dimension", X=str(cols), Y=str(rows))
    substrates = ET.SubElement(root, "Substrates")
    substrate = ET.SubElement(
        substrates, "Substrate", SubstrateType="Strip", SubstrateId=str(strip["strip_id"])
    )
    ET.SubElement(substrate, "LotId").text = str(strip["lot_id"])
    ET.SubElement(substrate, "Status").text = str(strip.get("status", ""))
    maps = ET.SubElement(root, "SubstrateMaps")
    for step in strip["steps"]:
        result_map = str(step["result_map"])
        substrate_map = ET.SubElement(
            maps,
            "SubstrateMap",
            SubstrateType="Strip",
            SubstrateId=str(strip["strip_id"]),
            LayoutSpecifier="Strip",
            OriginLocation="UpperLeft",
            Orientation="0",
            AxisDirection="DownRight",
        )
        overlay = ET.SubElement(
            substrate_map,
            "Overlay",
            MapName=f"{step['step_index']}: {step['step']}",
            MapVersion="1",
        )
        ET.SubElement(overlay, "Station").text = str(step["station"])
        bins = ET.SubElement(overlay, "BinCodeMap", BinType="ASCII", NullBin=".")
        definitions = ET.SubElement(bins, "BinDefinitions")
        for code, quality, description in BIN_CODES:
            ET.SubElement(
                definitions,
                "BinDefinition",
                BinCode=code,
                BinCount=str(result_map.count(code)),
                BinQuality=quality,
                BinDescription=description,
            )
        for row in range(rows):
            ET.SubElement(bins, "BinCode").text = result_map[row * cols : (row + 1) * cols]
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
