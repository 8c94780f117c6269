"""The limiter's exceptions, importable without the limiter (pyrate-limiter costs ~0.15 s of CPU to
import: a run without a rate limit never pays it)."""


class LimiterUnavailable(Exception):
    """The shared rate-limit state cannot be reached (lock timeout, redis down, ...)."""


class Cancelled(Exception):
    """An acquire stopped because ``should_stop()`` returned truthy."""
