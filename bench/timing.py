"""Timing shared by the benchmarks: every measured function run in turns, best of `rounds`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def interleaved(
    fns: dict[str, Callable[[], Any]], rounds: int = 5
) -> tuple[dict[str, float], dict[str, float], dict[str, Any]]:
    """Best wall and CPU time of each function, run in turns (a change of load hits all alike)."""
    wall = {name: float("inf") for name in fns}
    cpu = dict(wall)
    results: dict[str, Any] = {}
    for _ in range(rounds):
        for name, fn in fns.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            results[name] = fn()
            wall[name] = min(wall[name], time.perf_counter() - start)
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
    return wall, cpu, results
