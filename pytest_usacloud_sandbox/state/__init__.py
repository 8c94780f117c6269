"""State that crosses processes and outlives one command.

:mod:`.shared` owns it (the stop signal, live counters, the failure count, the registry of child
processes) behind one interface; :mod:`.stop`, :mod:`.children` are its pieces on one host,
:mod:`.links` (xdist's execnet channel) and :mod:`.group` (Redis, for run groups) its transports
across hosts and runs; :mod:`.atomicfile` writes files readers never see half-written.
"""
