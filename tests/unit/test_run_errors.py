"""`tierwise run` names the root cause of a failed step in one line, and shows the trace on request.

A real Dagster landing job in this process; no broker is started, which is the failure under test.
"""

from __future__ import annotations

import pytest

from core.home import Home
from tierwise.cli import main


def test_run_without_a_broker_says_so_in_one_line(
    tw_home: Home, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("TIERWISE_DEBUG", raising=False)
    assert main(["run"]) == 2
    err = capfd.readouterr().err
    assert err == (
        f"tierwise: error: landing failed: no Kafka broker for {tw_home.root}: run `tierwise kafka up`, "
        "or set KAFKA_BOOTSTRAP_SERVERS\n"
    )

    monkeypatch.setenv("TIERWISE_DEBUG", "1")
    assert main(["run"]) == 2
    err = capfd.readouterr().err
    # The whole chain: Dagster's wrapper, then the original exception raised in resolve_bootstrap.
    assert "DagsterExecutionStepExecutionError" in err and "in resolve_bootstrap" in err, err
    assert err.rstrip().splitlines()[-1].startswith("tierwise: error: landing failed: no Kafka broker for ")
