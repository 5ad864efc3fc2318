"""The one exception type the CLI turns into a one-line message instead of a stack trace."""


class TierwiseError(Exception):
    """A problem the user can fix: bad config, missing tool, unreachable broker."""
