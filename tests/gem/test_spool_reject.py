"""A spooled event stays in the spool until the host really answered it: a host that is closing
answers an S6F11 with an HSMS Reject.req, which secsgem hands back as the reply; taking that for
the S6F12 lost the event (seen as a strip's StripStepCompleted missing after the host came back)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from secsgem.hsms import HsmsMessage, HsmsRejectReqHeader, HsmsStreamFunctionHeader
from secsgem.hsms.header import HsmsSType

from packline.gem.equipment import answered
from packline.gem.outbox import Outbox
from packline.store import Store
from tests.support.integration_waits import wait_until

REJECT = HsmsMessage(HsmsRejectReqHeader(7, HsmsSType.DATA_MESSAGE, 4), b"")
S6F12 = HsmsMessage(HsmsStreamFunctionHeader(8, 6, 12, False, 0), b"")
S6F0 = HsmsMessage(HsmsStreamFunctionHeader(9, 6, 0, False, 0), b"")


def test_only_a_data_message_of_the_stream_answers_a_spooled_message() -> None:
    assert answered(S6F12, 6)
    assert answered(S6F0, 6), "an abort is the host's answer: it refused, nothing to resend"
    assert not answered(REJECT, 6), "a closing host's Reject.req is no answer"
    assert not answered(None, 6), "no reply within T3"
    assert not answered(S6F12, 5)


def test_an_event_rejected_by_a_closing_host_is_sent_again_not_dropped(tmp_path: Path) -> None:
    replies = [REJECT, S6F12]
    sent: list[Any] = []
    both_sent = threading.Event()

    def send(stream: int, function: int, body: Any) -> bool:
        sent.append(body)
        if len(sent) == 2:
            both_sent.set()
        return answered(replies.pop(0), stream)

    with Store(tmp_path / "line.db") as store:
        outbox = Outbox(store, send, lambda: True)
        outbox.start()
        try:
            outbox.put(6, 11, {"CEID": 4003, "RPT": []})
            assert both_sent.wait(10), f"sent {len(sent)} time(s)"
            wait_until(lambda: store.spool_count() == 0, 5, "removed once the host answered")
        finally:
            outbox.stop()
    assert sent == [{"CEID": 4003, "RPT": []}] * 2
