"""Guarding the three ways in (the login page, ``/api/v1/login``, HTTP Basic) against guessing.

Every password check costs an Argon2 hash (~50 ms of a core), so guessing is both a risk
to accounts and a way to starve everyone else. Two rules, one place:

- **Throttle**: failures are counted per account and per client address in a sliding
  window. Past the free allowance each further failure doubles the wait before the next
  attempt is even checked (up to :data:`MAX_WAIT_S`); attempts during the wait are refused
  at once with the seconds to wait (HTTP 429 ``Retry-After``), costing no hash.
  The service answers a refused attempt only after :data:`TARPIT_S` (a tarpit), so a
  guessing loop is slowed to a crawl instead of flooding the one process.

Good HTTP Basic credentials are remembered by :class:`~.accounts.BasicCredentialCache`, so a
GIS client sending them on every request costs no hash after the first.

State is per process (each ``serve --workers`` process counts its own), which bounds
guessing by the number of processes; it is kept in memory only.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

from ..catalogue import msg
from ..errors import TooManyAttemptsError

#: Failures per account, and per address, within the window before waits begin.
FREE_FAILURES_ACCOUNT = 10
FREE_FAILURES_ADDRESS = 30
WINDOW_S = 60.0
MAX_WAIT_S = 900.0
#: After this many failures in the window an account is reported to admins as locked.
LOCKOUT_NOTICE = FREE_FAILURES_ACCOUNT
#: A refused attempt is answered only after this long (or its wait, if shorter): a guesser
#: in a loop then costs the server a few requests a second instead of hundreds.
TARPIT_S = 2.0


@dataclass
class _Failures:
    times: deque = field(default_factory=deque)
    blocked_until: float = 0.0
    #: Failures past the free allowance since the last success (or since a quiet MAX_WAIT_S):
    #: each doubles the wait, so the back-off does not reset when the window slides on.
    penalty: int = 0
    last: float = 0.0

    def recent(self, now: float) -> int:
        while self.times and self.times[0] < now - WINDOW_S:
            self.times.popleft()
        return len(self.times)


class LoginGuard:
    """The throttle of one process (see the module docstring)."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], _Failures] = {}

    def check(self, username: str, address: str) -> None:
        """Refuse (429) an attempt while the account or the address must wait."""
        now = self._clock()
        with self._lock:
            waits = [f.blocked_until - now for f in (self._failures.get(("user", username.lower())),
                                                     self._failures.get(("addr", address))) if f]
        wait = max(waits, default=0.0)
        if wait > 0:
            raise TooManyAttemptsError(msg("accounts.too_many_attempts", wait=int(wait) + 1), retry_after=int(wait) + 1)

    def failed(self, username: str, address: str) -> bool:
        """Count a failure; True when the account has just reached the lockout notice."""
        now = self._clock()
        with self._lock:
            notice = False
            for key, free in ((("user", username.lower()), FREE_FAILURES_ACCOUNT),
                              (("addr", address), FREE_FAILURES_ADDRESS)):
                entry = self._failures.setdefault(key, _Failures())
                if now - entry.last > MAX_WAIT_S:
                    entry.penalty = 0
                entry.times.append(now)
                entry.last = now
                if entry.penalty or entry.recent(now) >= free:
                    entry.penalty += 1
                    entry.blocked_until = now + min(2.0 ** (entry.penalty - 1), MAX_WAIT_S)
                if key[0] == "user" and entry.recent(now) == LOCKOUT_NOTICE:
                    notice = True
            if len(self._failures) > 100_000:
                self._failures.clear()
            return notice

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop(("user", username.lower()), None)

    def locked(self) -> dict[str, float]:
        """Accounts that must wait now, with the seconds left (for admins)."""
        now = self._clock()
        with self._lock:
            return {key[1]: round(f.blocked_until - now, 1) for key, f in self._failures.items()
                    if key[0] == "user" and f.blocked_until > now}


#: The process's guard; the service and the CLI share it.
GUARD = LoginGuard()
