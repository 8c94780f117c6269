"""What the plugin knows about usacloud: its command tree, the offline check, the sandbox policy,
how a result is classified, and which values are secret. Imports nothing from ``run``."""
