#!/usr/bin/env python3
"""Independent check of ExperimentStatistics (Sources/Training/ExperimentStatistics.swift).

Reproduces, for a fixed dataset, the mean, the sample standard deviation (ddof=1), the paired
differences arm - control and their 95% percentile bootstrap interval (10,000 resamples,
SplitMix64 seeded with 20250701, index = high 64 bits of u * n, linear percentile at
q * (B - 1)). Uses numpy when it is installed (mean, std, percentile) and the standard library
otherwise; the resampling indices come from the same SplitMix64 stream either way, so the
numbers must equal the Swift ones to rounding. The printed values are pinned in
Tests/TrainingTests/ExperimentStatisticsTests.swift.

    python3 scripts/crosscheck-bootstrap.py
"""

import math

try:
    import numpy as np
except ImportError:  # the standard library is enough
    np = None

MASK = (1 << 64) - 1
SEED = 20250701
RESAMPLES = 10_000

# Fixed dataset: test accuracy of an arm and of the control over 10 seeds.
ARM = [0.8712, 0.8698, 0.8731, 0.8705, 0.8690, 0.8722, 0.8709, 0.8716, 0.8701, 0.8727]
CONTROL = [0.8705, 0.8701, 0.8712, 0.8699, 0.8702, 0.8710, 0.8695, 0.8711, 0.8707, 0.8714]


def splitmix64(seed):
    state = seed & MASK
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def mean(values):
    return float(np.mean(values)) if np else math.fsum(values) / len(values)


def std(values):
    if len(values) < 2:
        return 0.0
    if np:
        return float(np.std(values, ddof=1))
    m = mean(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def percentile(sorted_values, q):
    if np:
        return float(np.percentile(sorted_values, q * 100))
    position = q * (len(sorted_values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (position - low) * (sorted_values[high] - sorted_values[low])


def bootstrap(values, seed=SEED, resamples=RESAMPLES, confidence=0.95):
    n = len(values)
    stream = splitmix64(seed)
    means = []
    for _ in range(resamples):
        total = 0.0
        for _ in range(n):  # sum in draw order, as the Swift code does
            total += values[(next(stream) * n) >> 64]
        means.append(total / n)
    means.sort()
    tail = (1 - confidence) / 2
    return percentile(means, tail), percentile(means, 1 - tail)


def main():
    differences = [a - c for a, c in zip(ARM, CONTROL)]
    lower, upper = bootstrap(differences)
    print(f"implementation: {'numpy ' + np.__version__ if np else 'standard library'}")
    print(f"arm mean {mean(ARM)!r} std {std(ARM)!r}")
    print(f"control mean {mean(CONTROL)!r} std {std(CONTROL)!r}")
    print(f"difference mean {mean(differences)!r}")
    print(f"bootstrap 95% CI [{lower!r}, {upper!r}]")
    # Hand-checkable case: two values 0 and 1 — every resample mean is 0, 0.5 or 1.
    small_lower, small_upper = bootstrap([0.0, 1.0])
    print(f"bootstrap of [0, 1]: [{small_lower!r}, {small_upper!r}]")


if __name__ == "__main__":
    main()
