"""The read side: what the marts hold, as the CLI (and later the report and dashboard) show it."""
