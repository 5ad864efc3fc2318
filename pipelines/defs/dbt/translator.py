"""How dbt nodes look in the Dagster UI: groups by stage of the data's path, owners, and the base selection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster_dbt import DagsterDbtTranslator

# Seeds and staging views: not partitioned, built once and again only when they change.
BASE_SELECTION = "resource_type:seed tierwise.staging"
# The data tests of the staging views: they check landed rows, so every marts build runs them first.
STAGING_TESTS = "tierwise.staging,resource_type:test"
# Marts that answer "should we switch tiers" rather than "what did we spend".
PROJECTION_FOLDERS = ("projections", "decisions")


class TierwiseTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = list(dbt_resource_props.get("fqn", []))
        if dbt_resource_props.get("resource_type") == "seed" or "staging" in fqn:
            return "staging"
        if any(folder in fqn for folder in PROJECTION_FOLDERS):
            return "projections"
        return "spend"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        owner = (dbt_resource_props.get("meta") or {}).get("owner") or (dbt_resource_props.get("config") or {}).get(
            "meta", {}
        ).get("owner")
        if owner:
            return [owner]
        return ["team:finops"] if self.get_group_name(dbt_resource_props) != "staging" else ["team:data-platform"]
