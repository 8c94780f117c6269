"""What the user sees: the run log, live progress, the JSON report's schema and failure texts."""
