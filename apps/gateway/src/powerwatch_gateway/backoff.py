"""Exponential backoff with full jitter (AWS architecture blog's "Full Jitter")."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, initial_s: float, max_s: float, rng: random.Random | None = None) -> None:
        self._initial = initial_s
        self._max = max_s
        # Jitter only, not cryptography: the stdlib PRNG is right here.
        self._rng = rng or random.Random()  # noqa: S311  # nosec B311
        self.attempt = 0

    def next_delay(self) -> float:
        """Uniform in [0, min(max, initial * 2**attempt)], then count the attempt."""
        ceiling = min(self._max, self._initial * (2 ** min(self.attempt, 30)))
        self.attempt += 1
        return self._rng.uniform(0.0, ceiling)

    def reset(self) -> None:
        self.attempt = 0
