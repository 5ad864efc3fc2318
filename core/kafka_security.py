"""TLS and SASL settings shared by every Kafka client tierwise runs, read from the environment only.

The emitter, landing, scale-out workers, the lag reader, topic admin, the broker probe and the
dead-letter producer all build their clients with ``client_config``, so a cluster that needs
SASL_SSL (SCRAM-SHA-512) or TLS alone is configured once:

| Variable | Meaning |
|---|---|
| ``KAFKA_SECURITY_PROTOCOL`` | ``PLAINTEXT`` (default), ``SSL``, ``SASL_PLAINTEXT`` or ``SASL_SSL`` |
| ``KAFKA_SSL_CAFILE`` | PEM file of the CA that signed the brokers' certificates (default: the system's) |
| ``KAFKA_SSL_CERTFILE`` / ``KAFKA_SSL_KEYFILE`` | client certificate and key (PEM), for brokers that require mutual TLS |
| ``KAFKA_SSL_CHECK_HOSTNAME`` | ``true`` (default): the broker certificate must name the host dialled |
| ``KAFKA_SASL_MECHANISM`` | ``SCRAM-SHA-512`` (default), ``SCRAM-SHA-256`` or ``PLAIN`` |
| ``KAFKA_SASL_USERNAME`` / ``KAFKA_SASL_PASSWORD`` | the SASL credentials |

Secrets come from the environment only: never from a file in the repository, never written to
``dagster.yaml``, logs or error messages (an error names the variable, not its value).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from core.errors import TierwiseError

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


def _file(name: str) -> str | None:
    value = os.environ.get(name)
    if not value:
        return None
    if not Path(value).expanduser().is_file():
        raise TierwiseError(f"{name} names no readable file: {value}")
    return str(Path(value).expanduser())


def security_config() -> dict[str, Any]:
    """kafka-python keyword arguments for the configured security protocol (empty for PLAINTEXT)."""
    protocol = os.environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").strip().upper()
    if protocol not in PROTOCOLS:
        raise TierwiseError(f"KAFKA_SECURITY_PROTOCOL must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    if protocol == "PLAINTEXT":
        return {}
    config: dict[str, Any] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        check = os.environ.get("KAFKA_SSL_CHECK_HOSTNAME", "true").strip().lower()
        if check not in ("true", "false"):
            raise TierwiseError(f"KAFKA_SSL_CHECK_HOSTNAME must be true or false, got {check!r}")
        config["ssl_check_hostname"] = check == "true"
        for key, name in (
            ("ssl_cafile", "KAFKA_SSL_CAFILE"),
            ("ssl_certfile", "KAFKA_SSL_CERTFILE"),
            ("ssl_keyfile", "KAFKA_SSL_KEYFILE"),
        ):
            path = _file(name)
            if path:
                config[key] = path
        if ("ssl_certfile" in config) != ("ssl_keyfile" in config):
            raise TierwiseError("KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE must be set together")
    if protocol.startswith("SASL_"):
        mechanism = os.environ.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512").strip().upper()
        if mechanism not in MECHANISMS:
            raise TierwiseError(f"KAFKA_SASL_MECHANISM must be one of {', '.join(MECHANISMS)}, got {mechanism!r}")
        user, password = os.environ.get("KAFKA_SASL_USERNAME"), os.environ.get("KAFKA_SASL_PASSWORD")
        if not user or not password:
            raise TierwiseError(f"{protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD in the environment")
        config.update(sasl_mechanism=mechanism, sasl_plain_username=user, sasl_plain_password=password)
    return config


def client_config(bootstrap: str, **settings: Any) -> dict[str, Any]:
    """Keyword arguments for any kafka-python client: the address, the security settings, then `settings`."""
    return {"bootstrap_servers": bootstrap, **security_config(), **settings}
