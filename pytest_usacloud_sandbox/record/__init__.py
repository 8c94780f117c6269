"""What happened, as plain data: the words for it and the records that land in the report.

:mod:`.vocabulary` names each concept once (a command's status, its result class, a script's
outcome, what became of a resource, what the preflight found); :mod:`.script`, :mod:`.cleanup`
and :mod:`.preflight` are the records, each field documented where it is declared
(:mod:`.fields`), which is where the report's schema comes from; :mod:`.inflight` carries a
script's record from its item to the hooks that log its report. Imports nothing else of the
plugin: every layer above uses it.
"""
