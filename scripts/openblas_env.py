"""The environment the i2x binaries run with in the benchmark and measurement scripts."""

import os


def openblas_env(**extra):
    """os.environ plus `extra`, with OpenBLAS's AVX-512 kernels (OPENBLAS_CORETYPE=SkylakeX) where the
    CPU has AVX-512 and the variable is not set: OpenBLAS 0.3.21 does not recognise Zen 5, and forcing
    those kernels on a CPU without AVX-512 (Zen 3, say) kills the process with an illegal instruction."""
    env = dict(os.environ, **extra)
    if "OPENBLAS_CORETYPE" not in env and has_avx512():
        env["OPENBLAS_CORETYPE"] = "SkylakeX"
    return env


def has_avx512():
    """Whether /proc/cpuinfo lists the avx512f flag."""
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and "avx512f" in line.split() for line in f)
    except OSError:
        return False
