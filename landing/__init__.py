"""The consumer side: Kafka record batches -> validated rows -> one DuckDB transaction with their offsets."""
