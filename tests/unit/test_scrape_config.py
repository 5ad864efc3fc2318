"""The scrape config's errors name the file, deployment and field; counter tracking of resets and new series."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import TierwiseError
from core.settings import project_dir
from ingest.scrape_config import load_scrape_config, unpriced_gpu_types
from ingest.scrape_metrics import CounterTracker, CounterValue

GOOD = """
interval_s: 30
timeout_s: 5
deployments:
  - name: llama-east
    engine: vllm
    metrics_url: http://10.0.0.5:8000/metrics
    gpu_type: H100-80GB
    gpu_count: 2
    hourly_price_usd: "2.49"
    model: meta-llama/Llama-3.3-70B-Instruct
    usage: {workload: batch}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scrape.yaml"
    path.write_text(text)
    return path


def test_a_good_config_loads_with_exact_money(tmp_path: Path) -> None:
    config = load_scrape_config(write(tmp_path, GOOD))
    (d,) = config.deployments
    assert (config.interval_s, d.gpu_count, str(d.hourly_price_usd), d.missed) == (30, 2, "2.49", "bill")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("gpu_count: 2", "gpu_count: two"), "deployment llama-east: gpu_count: Input should be a valid integer"),
        (
            ('hourly_price_usd: "2.49"', 'hourly_price_usd: "-1"'),
            "deployment llama-east: hourly_price_usd: must be a non-negative decimal",
        ),
        (("engine: vllm", "engine: tgi"), "deployment llama-east: engine: Input should be 'vllm' or 'sglang'"),
        (
            ("metrics_url: http://", "metrics_url: ftp://"),
            "deployment llama-east: metrics_url: must be an http:// or https:// URL",
        ),
        (("    model: meta-llama/Llama-3.3-70B-Instruct\n", ""), "deployment llama-east: model is required when usage is set"),
        (("gpu_count: 2", "gpu_count: 2\n    gpus: 2"), "deployment llama-east: gpus: is not a known field"),
        (("timeout_s: 5", "timeout_s: 30"), "timeout_s (30) must be shorter than interval_s (30)"),
    ],
)
def test_a_bad_config_names_the_deployment_and_field(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(TierwiseError) as err:
        load_scrape_config(path)
    assert str(err.value).startswith(f"{path}: {message}")


def test_a_yaml_number_price_is_taken_exactly(tmp_path: Path) -> None:
    # A price written as a YAML number (as people write it) is the same decimal as the quoted one.
    config = load_scrape_config(write(tmp_path, GOOD.replace('hourly_price_usd: "2.49"', "hourly_price_usd: 2.49")))
    assert str(config.deployments[0].hourly_price_usd) == "2.49"


def test_missing_file_and_bad_yaml_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(TierwiseError, match="cannot read"):
        load_scrape_config(tmp_path / "absent.yaml")
    with pytest.raises(TierwiseError, match="not valid YAML at line 3"):
        load_scrape_config(write(tmp_path, "deployments:\n  - [unclosed\n"))


A = (("model_name", "a"),)
B = (("model_name", "b"),)


def test_counter_increments_survive_resets_and_new_series() -> None:
    tracker = CounterTracker()
    assert tracker.advance({A: CounterValue(1000, 1.0)}) is None  # the baseline
    step = tracker.advance({A: CounterValue(1500, 1.0)})
    assert step is not None and (step.amount, step.resets) == (500, 0)
    # A restarted (a lower value) and B appeared since: both count in full.
    step = tracker.advance({A: CounterValue(200, 1.0), B: CounterValue(70, 5.0)})
    assert step is not None and (step.amount, step.resets) == (270, 1)
    # B restarted and already passed its old value: only its new _created time tells.
    step = tracker.advance({A: CounterValue(260, 1.0), B: CounterValue(90, 9.0)})
    assert step is not None and (step.amount, step.resets) == (60 + 90, 1)
    # Without _created a counter that kept going up is just an increment.
    step = tracker.advance({A: CounterValue(300, None), B: CounterValue(100, None)})
    assert step is not None and (step.amount, step.resets) == (40 + 10, 0)


def test_gpu_types_the_catalog_does_not_price_are_named(tmp_path: Path) -> None:
    two = GOOD + GOOD.split("deployments:\n", 1)[1].replace("llama-east", "mystery").replace("H100-80GB", "Z9000")
    config = load_scrape_config(write(tmp_path, two.replace('    hourly_price_usd: "2.49"\n', "")))
    assert unpriced_gpu_types(config, project_dir() / "seeds" / "gpu_prices.csv") == [("mystery", "Z9000")]
