"""What a failed Dagster step tells the user: the innermost cause in one line, the whole chain on request.

Dagster wraps an asset's exception in DagsterExecutionStepExecutionError and keeps the original as the
error's `cause` (or `context`); the user's problem (no broker, a bad file) is at the end of that chain.
"""

from __future__ import annotations

from typing import Any

from core.errors import TierwiseError

# dagster-dbt appends dbt's error-level log lines to its exception message after this line.
DBT_ERRORS_MARKER = "Errors parsed from dbt logs:"
USER_ERROR = TierwiseError.__name__


def error_lines(message: str, limit: int = 12) -> str:
    """The useful part of a step error: dbt's own error lines when dagster-dbt parsed any, else the last line."""
    if DBT_ERRORS_MARKER in message:
        lines = [ln.rstrip() for ln in message.split(DBT_ERRORS_MARKER, 1)[1].strip().splitlines() if ln.strip()]
        return "\n".join(lines[:limit] + ([f"... ({len(lines) - limit} more lines)"] if len(lines) > limit else []))
    lines = message.strip().splitlines()
    return lines[-1] if lines else ""


def innermost(err: Any) -> Any:
    """Follow `cause` (raise ... from) then `context` (raised while handling) to the original error."""
    seen = 0
    while seen < 20:
        nxt = err.cause or err.context
        if nxt is None:
            return err
        err, seen = nxt, seen + 1
    return err


def describe(err: Any) -> str:
    """One line for a step's error: a TierwiseError's own text, else 'ClassName: message' of the root cause."""
    root = innermost(err)
    text = root.message.strip()
    # Dagster stores "module.ClassName: text"; a TierwiseError's text is already written for the user.
    head, sep, rest = text.partition(": ")
    if sep and head.rsplit(".", 1)[-1] == root.cls_name:
        text = rest
    if root is err:
        return error_lines(text) or root.cls_name or "error"
    line = error_lines(text) or "(no message)"
    return line if root.cls_name == USER_ERROR else f"{root.cls_name}: {line}"


def first_step_error(result: Any) -> tuple[str, str]:
    """(one line, full trace) of the first failed step of a Dagster run result."""
    for event in result.all_events:
        if event.is_failure and event.step_failure_data is not None:
            err = event.step_failure_data.error
            if err is not None:
                return describe(err), err.to_string()
    return "see the Dagster run logs", ""
