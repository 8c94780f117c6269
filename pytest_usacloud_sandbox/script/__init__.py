"""A script's text: POSIX shell words (shellwords) and the usacloud commands in it (parse)."""
