"""Short seeded fuzzing campaigns, one per protocol of the line (SCPI over TCP and serial,
the framed link, the line ASCII protocol, Modbus TCP and RTU): after every generated
request the tool still answers its identity and is in a README §5 state.

The long campaign (>= 10,000 cases per protocol) is ``benchmarks/fuzz_campaign.py``.
"""

from __future__ import annotations

import pytest

from tests.fuzz.protocols import CAMPAIGNS, REPLY_TIMEOUT_S

SHORT_CASES = 200


@pytest.mark.parametrize("protocol", sorted(CAMPAIGNS))
def test_generated_requests_never_silence_the_tool(protocol: str) -> None:
    result = CAMPAIGNS[protocol](SHORT_CASES, 9, REPLY_TIMEOUT_S)
    assert result.cases == SHORT_CASES
    assert result.failures == []
    assert result.final, "the tool's identity and state after the campaign"
