"""raw.imported_prices as a Dagster asset: `tierwise prices import` writes it outside any run.

The import reports a runless materialization whose `dirty_days` metadata (every day waiting for a rebuild,
like a landing's) wakes the dirty-days sensor, so re-pricing does not wait for new traffic to land.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import dagster as dg

from core.home import Home

IMPORTED_PRICES_KEY = dg.AssetKey(["raw", "imported_prices"])

imported_prices = dg.AssetSpec(
    IMPORTED_PRICES_KEY,
    description="Token prices imported by `tierwise prices import litellm FILE --effective-from DATE`.",
    kinds={"duckdb"},
)


def report_price_import(
    instance: dg.DagsterInstance, effective_from: date, imported: int, repriced: Sequence[date], dirty: Sequence[date]
) -> None:
    """Record one import as a materialization of raw/imported_prices (what the dirty-days sensor watches)."""
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key=IMPORTED_PRICES_KEY,
            description=f"prices effective from {effective_from.isoformat()}",
            metadata={
                "effective_from": effective_from.isoformat(),
                "imported": imported,
                "repriced_days": [d.isoformat() for d in repriced],
                # Every day still waiting for a dbt rebuild, as in a landing's metadata.
                "dirty_days": [d.isoformat() for d in dirty],
            },
        )
    )


def announce_price_import(
    home: Home, effective_from: date, imported: int, repriced: Sequence[date], dirty: Sequence[date]
) -> Path | None:
    """Report the import to the Dagster instance of `home`; None when the home has none yet.

    Without an instance no sensor watches this home, and `tierwise run` finds the marks in the warehouse.
    """
    if not (home.dagster / "dagster.yaml").exists():
        return None
    with dg.DagsterInstance.from_config(str(home.dagster)) as instance:
        report_price_import(instance, effective_from, imported, repriced, dirty)
    return home.dagster
