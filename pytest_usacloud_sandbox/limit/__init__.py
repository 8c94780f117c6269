"""The shared token bucket (bucket) and the stores its state lives in (store)."""
