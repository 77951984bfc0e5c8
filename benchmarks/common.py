"""Shared helpers for the benchmarks: timing rounds, medians, a report line."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    return statistics.median(values)


def line(label: str, ours: float, base: float, unit: str, target: str) -> str:
    ratio = ours / base if base else float("nan")
    return f"{label}: ours {ours:,.0f} {unit}, baseline {base:,.0f} {unit}, ratio {ratio:.2f} (target {target})"
