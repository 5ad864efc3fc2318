"""Dagster definitions for tierwise: landing from Kafka, dbt marts, sensors and schedules."""
