"""The strip map XML: layout, one bin code per site row by row, the bin table with counts."""

from __future__ import annotations

from xml.etree import ElementTree

from packline.strip_map import NAMESPACE, strip_map_xml


def test_site_k_is_the_kth_bin_code_reading_rows_in_order_with_counts_per_bin() -> None:
    strip = {
        "strip_id": "L1-01",
        "lot_id": "L1",
        "status": "complete",
        "steps": [
            {"step_index": 0, "step": "laminate", "station": "laminator", "result_map": "PPPFXN"},
        ],
    }
    root = ElementTree.fromstring(strip_map_xml(strip, {"rows": 2, "cols": 3}))
    ns = {"m": NAMESPACE}
    assert root.find("m:Layouts/m:Layout/m:Dimension", ns).attrib == {"X": "3", "Y": "2"}  # type: ignore[union-attr]
    substrate_map = root.find("m:SubstrateMaps/m:SubstrateMap", ns)
    assert substrate_map is not None and substrate_map.get("SubstrateId") == "L1-01"
    rows = [r.text for r in substrate_map.findall("m:Overlay/m:BinCodeMap/m:BinCode", ns)]
    assert rows == ["PPP", "FXN"]
    counts = {
        b.get("BinCode"): b.get("BinCount")
        for b in substrate_map.findall(
            "m:Overlay/m:BinCodeMap/m:BinDefinitions/m:BinDefinition", ns
        )
    }
    assert counts == {"P": "3", "F": "1", "X": "1", "N": "1"}
