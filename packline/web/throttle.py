"""Bounds on failed sign-ins, so that a password cannot be guessed at the speed of the server.

Failed attempts are counted per user name and per client address over a moving window (the
``limits`` library, in memory: a restart of the daemon forgets them). Once either count is
full, every sign-in for that name or from that address is refused with :class:`Throttled`
(HTTP 429 with ``Retry-After``) before the password is checked, a right one included, until the
oldest failure leaves the window. A successful sign-in clears its user name's count.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from packline.errors import Throttled

#: Failed sign-ins allowed per user name within :data:`WINDOW_S`.
FAILURES_PER_USER = 5
#: Failed sign-ins allowed per client address within :data:`WINDOW_S` (any user names).
FAILURES_PER_ADDRESS = 20
WINDOW_S = 300


@dataclass
class SignInThrottle:
    """Counts failed sign-ins; :meth:`check` before the password, :meth:`failed` or
    :meth:`succeeded` after."""

    per_user: int = FAILURES_PER_USER
    per_address: int = FAILURES_PER_ADDRESS
    window_s: int = WINDOW_S
    _limiter: MovingWindowRateLimiter = field(init=False, repr=False)
    _user_limit: RateLimitItem = field(init=False, repr=False)
    _address_limit: RateLimitItem = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._user_limit = RateLimitItemPerSecond(self.per_user, self.window_s, "sign-in-user")
        self._address_limit = RateLimitItemPerSecond(
            self.per_address, self.window_s, "sign-in-address"
        )

    def check(self, user: str, address: str) -> None:
        """:class:`Throttled` if ``user`` or ``address`` has used up its failed attempts."""
        for limit, key, what in (
            (self._user_limit, user, f"user {user!r}"),
            (self._address_limit, address, f"address {address}"),
        ):
            if not self._limiter.test(limit, key):
                reset_at = self._limiter.get_window_stats(limit, key).reset_time
                retry_after_s = max(1, math.ceil(reset_at - time.time()))
                raise Throttled(
                    f"too many failed sign-ins for {what}: try again in {retry_after_s} s",
                    retry_after_s=retry_after_s,
                )

    def failed(self, user: str, address: str) -> None:
        self._limiter.hit(self._user_limit, user)
        self._limiter.hit(self._address_limit, address)

    def succeeded(self, user: str) -> None:
        self._limiter.clear(self._user_limit, user)
