"""tierwise's event contracts: what producers send and what landing accepts.

``UsageEvent`` (one per LLM request) and ``GpuUsage`` (one per self-hosted deployment per interval)
are validated here and nowhere else; ``parse_usage``/``parse_gpu`` are the landing consumer's entry
points, ``strip_content`` / ``count_content`` the single content filter every adapter uses.
"""

from schemas.content import CONTENT_KEYS, CONTENT_PREFIXES, count_content, is_content_key, scrub_raw, strip_content
from schemas.errors import ContractError
from schemas.fields import SCHEMA_MAJOR
from schemas.gpu import GpuUsage
from schemas.parse import is_gpu_heartbeat, parse_event, parse_gpu, parse_usage
from schemas.usage import Tier, UsageEvent

__all__ = [
    "CONTENT_KEYS",
    "CONTENT_PREFIXES",
    "SCHEMA_MAJOR",
    "ContractError",
    "count_content",
    "GpuUsage",
    "Tier",
    "UsageEvent",
    "is_content_key",
    "is_gpu_heartbeat",
    "parse_event",
    "parse_gpu",
    "parse_usage",
    "scrub_raw",
    "strip_content",
]
