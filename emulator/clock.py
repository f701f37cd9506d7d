"""Virtual clock that every emulator state transition reads."""

import threading
import time


class Clock:
    """Workspace time in milliseconds since the epoch.

    Virtual time runs `time_scale` times faster than the wall clock and can be moved
    forward with `advance`, so a ten-minute deployment can finish in seconds (demo) or
    instantly (tests).
    """

    def __init__(self, time_scale: float = 1.0, start_ms: int | None = None) -> None:
        if time_scale < 0:
            raise ValueError(f"time_scale must be >= 0, got {time_scale!r}")
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
        """Move virtual time forward by `seconds` and return the new time in ms."""
        if seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds!r}")
        with self._lock:
            self._rebase()
            self._anchor_virtual_ms += seconds * 1000
            return int(self._anchor_virtual_ms)

    def set_time_scale(self, time_scale: float) -> None:
        if time_scale < 0:
            raise ValueError(f"time_scale must be >= 0, got {time_scale!r}")
        with self._lock:
            self._rebase()
            self._time_scale = time_scale

    def _now_unlocked(self) -> float:
        elapsed_real = time.monotonic() - self._anchor_real
        return self._anchor_virtual_ms + elapsed_real * 1000 * self._time_scale

    def _rebase(self) -> None:
        self._anchor_virtual_ms = self._now_unlocked()
        self._anchor_real = time.monotonic()
