"""Tell a home's Dagster instance about a price import, so its dirty-days sensor re-prices right away."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from tierwise.home import Home


def announce_price_import(
    home: Home, effective_from: date, imported: int, repriced: Sequence[date], dirty: Sequence[date]
) -> Path | None:
    """Report the import to the Dagster instance of `home`; None when the home has none yet.

    Without an instance no sensor watches this home, and `tierwise run` finds the marks in the warehouse.
    """
    if not (home.dagster / "dagster.yaml").exists():
        return None
    import dagster as dg

    from pipelines.defs.prices import report_price_import

    with dg.DagsterInstance.from_config(str(home.dagster)) as instance:
        report_price_import(instance, effective_from, imported, repriced, dirty)
    return home.dagster
