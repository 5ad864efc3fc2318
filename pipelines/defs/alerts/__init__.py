"""Alert evaluation in Dagster: right after landing commits, after each dbt build, and a consumer-lag sensor."""
