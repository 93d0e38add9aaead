"""The health monitor, provoked for real: divergence (absurd learning rates), mode collapse
(a generator that ignores z), a winning discriminator (a tiny dataset, a strong D); and a
healthy toy run that raises nothing."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from ganforge.config import preset_config
from ganforge.errors import GanforgeError
from ganforge.training import checkpoint
from ganforge.training.health import HealthMonitor, Thresholds, mean_pairwise_distance


def alarms(run) -> list[dict]:
    path = run / "alarms.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def no_nan_anywhere(run) -> None:
    """No file of the run holds NaN: metrics rows, checkpoints, the export."""
    text = (run / "metrics.jsonl").read_text() if (run / "metrics.jsonl").exists() else ""
    assert "NaN" not in text and "Infinity" not in text
    for path in (run / "checkpoints").glob("*.pt"):
        state = checkpoint.load(path)
        for key in ("G", "D", "G_ema"):
            assert all(torch.isfinite(v).all() for v in state[key].values() if v.is_floating_point()), (path, key)


def test_a_healthy_toy_run_raises_no_alarm(tmp_path, helpers, capsys):
    cfg = preset_config("ring8")
    cfg.train = dataclasses.replace(cfg.train, steps=600, log_every=10, eval_every=100, threads=1)
    helpers.train_run(cfg, tmp_path / "run")
    assert alarms(tmp_path / "run") == []
    rows = helpers.read_metrics(tmp_path / "run")
    assert not any(k.startswith("Health/") for row in rows for k in row)
    assert "warning:" not in capsys.readouterr().err
    # the stats the monitor reads are there, within their ranges
    last = [r for r in rows if "D/sign_real" in r][-1]
    assert -1 <= last["D/sign_real"] <= 1 and 0 <= last["D/D(G(z))"] <= 1 and 0 <= last["D/real_acc"] <= 1
    assert last["Grad/G/norm"] > 0 and last["Grad/D/norm"] > 0 and last["LR/G"] == pytest.approx(cfg.optim.lr_g)


def test_divergence_is_rolled_back_at_half_the_learning_rate_and_recovers(tmp_path, helpers, capsys):
    cfg = helpers.tiny_config("ring8", optim={"lr_g": 1e12, "lr_d": 1e12}, train={"steps": 60, "log_every": 10})
    t = helpers.train_run(cfg, tmp_path / "run")
    assert 1 <= t.rollbacks <= 3 and t.step == 60
    fired = [a for a in alarms(tmp_path / "run") if a["alarm"] == "non_finite"]
    assert len(fired) == t.rollbacks and "rolled back to step 0" in fired[0]["message"]
    assert t.cfg.optim.lr_g == 1e12 / 2**t.rollbacks
    assert "lr_g: " in (tmp_path / "run" / "config.yaml").read_text()  # the halved rate is recorded
    assert "not finite at step 10: rolled back" in capsys.readouterr().err
    no_nan_anywhere(tmp_path / "run")


def test_persistent_divergence_stops_with_a_clear_message_and_no_nan_on_disk(tmp_path, helpers):
    cfg = helpers.tiny_config("ring8", optim={"lr_g": 1e35, "lr_d": 1e35},
                              train={"steps": 60, "log_every": 5, "checkpoint_every": 5})
    with pytest.raises(GanforgeError, match="after 3 roll-backs at ever lower learning rates; stopped") as e:
        helpers.train_run(cfg, tmp_path / "run")
    assert "\n" not in str(e.value)
    assert not (tmp_path / "run" / "model").exists()
    no_nan_anywhere(tmp_path / "run")


class ConstantGenerator(nn.Module):
    """A generator forced to one output whatever z is: total mode collapse."""

    z_dim, c_dim, resolution, channels = 2, 0, 0, 2

    def __init__(self):
        super().__init__()
        self.point = nn.Parameter(torch.zeros(2))

    def forward(self, z, c=None):
        return self.point.expand(len(z), 2) + 0 * z


def test_a_generator_that_ignores_z_raises_the_mode_collapse_alarm_once(tmp_path, helpers, capsys):
    from ganforge.models import toy
    cfg = helpers.tiny_config("ring8", train={"steps": 100, "log_every": 10})
    t = helpers.train_run(cfg, tmp_path / "run", models=(ConstantGenerator(), toy.Discriminator(2, 32, 2)))
    fired = alarms(tmp_path / "run")
    assert [a["alarm"] for a in fired] == ["mode_collapse"]
    assert "wgan-gp" in fired[0]["cure"] and fired[0]["step"] >= 0.05 * 100
    assert capsys.readouterr().err.count("mode collapse") == 1  # printed once
    rows = [r for r in helpers.read_metrics(tmp_path / "run") if "Health/mode_collapse" in r]
    assert len(rows) >= 5  # a stat while it holds
    assert t.step == 100  # a warning, not a stop


def test_a_strong_discriminator_on_a_tiny_dataset_raises_the_overfitting_alarm(tmp_path, helpers):
    images = np.random.default_rng(0).integers(0, 255, (32, 8, 8, 1), dtype=np.uint8)
    np.save(tmp_path / "tiny.npy", images)
    cfg = helpers.tiny_config("digits", data={"source": str(tmp_path / "tiny.npy"), "resolution": 8},
                              optim={"lr_g": 1e-6, "lr_d": 5e-3},
                              train={"steps": 80, "batch_size": 32, "log_every": 5})
    helpers.train_run(cfg, tmp_path / "run")
    fired = {a["alarm"]: a for a in alarms(tmp_path / "run")}
    assert "d_overfitting" in fired
    assert "E[sign D(x_real)] = 1.00" in fired["d_overfitting"]["message"]
    assert "--diffaugment" in fired["d_overfitting"]["cure"]


def test_modes_dropping_fires_once_they_fall_two_under_the_best(tmp_path):
    monitor = HealthMonitor(tmp_path / "alarms.jsonl", total_steps=100)
    assert monitor.check_modes(5, 3, total=8) == [] and monitor.check_modes(6, 0, total=8) == []  # still finding them
    assert monitor.check_modes(10, 8, total=8) == [] and monitor.check_modes(20, 7, total=8) == []
    (alarm,) = monitor.check_modes(30, 6, total=8)
    assert alarm.alarm == "modes_dropped" and "dropped to 6 from 8" in alarm.message


def test_conditions_must_hold_for_patience_intervals_after_warmup(tmp_path):
    monitor = HealthMonitor(tmp_path / "a.jsonl", total_steps=1000, thresholds=Thresholds(patience=3, warmup=0.1))
    winning = {"D/sign_real": 0.99, "D/D(G(z))": 0.01}
    assert monitor.check_row(50, winning) == []            # warm-up: not judged
    assert monitor.check_row(100, winning) == [] and monitor.check_row(110, winning) == []
    assert monitor.check_row(120, {"D/sign_real": 0.5, "D/D(G(z))": 0.4}) == []  # the streak breaks
    assert monitor.check_row(130, winning) == [] and monitor.check_row(140, winning) == []
    assert [a.alarm for a in monitor.check_row(150, winning)] == ["d_overfitting"]


def test_mean_pairwise_distance_by_hand():
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])
    assert mean_pairwise_distance(x) == pytest.approx((5 + 4 + 3) / 3)
    assert mean_pairwise_distance(torch.ones(5, 3, 2, 2)) == 0.0
    assert math.isfinite(mean_pairwise_distance(torch.randn(1, 2)))


def test_the_warm_up_is_capped_for_runs_with_a_huge_step_budget(tmp_path):
    monitor = HealthMonitor(tmp_path / "a.jsonl", total_steps=10**9, thresholds=Thresholds(patience=1))
    assert monitor.check_row(999, {"D/sign_real": 1.0, "D/D(G(z))": 0.0}) == []
    assert monitor.check_row(1000, {"D/sign_real": 1.0, "D/D(G(z))": 0.0})
