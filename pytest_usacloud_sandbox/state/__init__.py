"""State that outlives one command: the stop signal, per-script records, atomic files."""
