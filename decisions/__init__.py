"""Tier-switch decisions outside dbt: the what-if calculator and scenario recommendations.

Every number comes from the SQL library in dbt_project/macros/sql_library.sql, the same macros the dbt
marts call; this package only builds the input relations in an in-memory DuckDB and formats the output.
"""
