"""Kafka plumbing both sides use: the local KRaft broker, topics, client settings, lag and dead-letter headers."""
