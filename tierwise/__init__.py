"""tierwise: LLM usage telemetry and cost attribution across deployment tiers."""

__version__ = "0.1.0"
