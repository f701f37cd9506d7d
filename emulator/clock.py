"""Virtual clock that every emulator state transition reads."""

import math
import threading
import time

# The last millisecond of 9999-12-31 UTC, the latest time datetime can format. Logs print the
# virtual time of recent requests, so virtual time stops here.
MAX_TIME_MS = 253_402_300_799_999


class Clock:
    """Workspace time in milliseconds since the epoch.

    Virtual time runs `time_scale` times faster than the wall clock and can be moved
    forward with `advance`, so a ten-minute deployment can finish in seconds (demo) or
    instantly (tests). It never passes MAX_TIME_MS.
    """

    def __init__(self, time_scale: float = 1.0, start_ms: int | None = None) -> None:
        _check_time_scale(time_scale)
        self._lock = threading.Lock()
        self._time_scale = time_scale
        self._anchor_real = time.monotonic()
        self._anchor_virtual_ms = float(start_ms if start_ms is not None else time.time() * 1000)

    @property
    def time_scale(self) -> float:
        return self._time_scale

    def now_ms(self) -> int:
        with self._lock:
            return int(self._now_unlocked())

    def advance(self, seconds: float) -> int:
        """Move virtual time forward by `seconds` and return the new time in ms.

        Raises ValueError for a negative or non-finite `seconds`, or one that would pass MAX_TIME_MS.
        """
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
        with self._lock:
            self._rebase()
            target = self._anchor_virtual_ms + seconds * 1000
            if target > MAX_TIME_MS:
                left = (MAX_TIME_MS - self._anchor_virtual_ms) / 1000
                raise ValueError(
                    f"advancing by {seconds!r} seconds would pass the end of year 9999, the latest virtual time. "
                    f"At most {left:.0f} seconds are left"
                )
            self._anchor_virtual_ms = target
            return int(self._anchor_virtual_ms)

    def set_time_scale(self, time_scale: float) -> None:
        _check_time_scale(time_scale)
        with self._lock:
            self._rebase()
            self._time_scale = time_scale

    def _now_unlocked(self) -> float:
        elapsed_real = time.monotonic() - self._anchor_real
        # min() also turns an overflow to inf (a huge time_scale) into the last valid time.
        return min(self._anchor_virtual_ms + elapsed_real * 1000 * self._time_scale, MAX_TIME_MS)

    def _rebase(self) -> None:
        self._anchor_virtual_ms = self._now_unlocked()
        self._anchor_real = time.monotonic()


def _check_time_scale(time_scale: float) -> None:
    if not math.isfinite(time_scale) or time_scale < 0:
        raise ValueError(f"time_scale must be a finite number >= 0, got {time_scale!r}")
