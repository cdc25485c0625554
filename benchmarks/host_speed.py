"""The benchmarks print how fast the host's CPU was around their run.

This machine's CPU speed varies a lot from one run to the next (a plain loop's time doubles), so
the absolute milliseconds of two runs cannot be compared; the ratios measured side by side in one
run can. The probe's time says which kind of run it was.
"""

import time


def loop_seconds(steps: int = 10_000_000) -> float:
    """Seconds for a plain Python loop adding `steps` integers."""
    started = time.perf_counter()
    total = 0
    for step in range(steps):
        total += step
    return time.perf_counter() - started


def describe(before: float, after: float) -> str:
    return f"host probe (10-million-step Python loop): {before:.2f} s before the run, {after:.2f} s after"
