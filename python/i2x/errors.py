"""Errors raised by the i2x package."""


class I2XError(Exception):
    """The daemon refused a request, or the package cannot do what was asked.

    Attributes:
        code: The daemon's error code (``bad-data``, ``unknown-run``, ``conflict``,
            ``not-ready``, ``analysis-failed``, ``unknown-query``, ``internal``, …) or one of
            the package's own: ``unavailable`` (no daemon answered), ``usage``,
            ``unsupported-layer``, ``mismatch`` (i2x's logits differ from PyTorch's).
        message: What went wrong and what to do.
    """

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class DaemonUnavailable(I2XError):
    """No daemon answered at the endpoint within the timeout and retries."""

    def __init__(self, endpoint: str, attempts: int, timeout: float):
        super().__init__(
            "unavailable",
            f"no i2xd answered at {endpoint} ({attempts} attempt(s), {timeout:g} s each); "
            f"start it with `i2xd --endpoint {endpoint}` or check the endpoint",
        )
        self.endpoint = endpoint
