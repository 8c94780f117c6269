"""The preflight: before any script runs, one read-only usacloud call that needs valid credentials,
so that a misconfigured run ends with one message instead of silent no-ops or a failure per script.
"""
