"""Running commands: the child runner, one script's engine, and shell mode (shell, broker, shim)."""
