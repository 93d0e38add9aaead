"""Classification accuracy score (ganforge.metrics.cas): the SmallCNN trained on a conditional
generator's samples, tested on the real test split, beside the same classifier trained on
real images (cached). Everything on scikit-learn's digits at 8 px, a few hundred classifier
steps: real training, seconds."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import ganforge
from ganforge.errors import GanforgeError
from ganforge.metrics import cas
from ganforge.metrics import train_classifier as tc
from test_cli import assert_one_line_error, run_cli

STEPS = 100  # classifier steps here (the default, 3,000, is for real measurements)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Each test its own $GANFORGE_CACHE, so the real side is computed, then cached, here."""
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "cas"


class DigitsLookup(nn.Module):
    """A 'conditional generator' that returns real digits training images of class c + shift."""

    def __init__(self, shift: int = 0, c_dim: int = 10):
        super().__init__()
        x, y = tc.load_split("digits", "train")
        self.images, self.y, self.shift = x.float() / 127.5 - 1, y, shift
        self.z_dim, self.c_dim, self.resolution, self.channels = 4, c_dim, 8, 1
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, z, c=None):
        pools = [torch.nonzero(self.y == (k + self.shift) % 10).flatten() for k in c.tolist()]
        pick = [p[int(abs(v) * 1000) % len(p)] for p, v in zip(pools, z[:, 0].tolist())]
        return self.images[torch.stack(pick)]


def test_real_images_as_samples_score_as_real_and_wrong_labels_score_nothing():
    good = cas.classification_accuracy_score(DigitsLookup(), "digits", n=300, steps=STEPS, progress=False)
    m = good["metrics"]
    assert m["cas"] > 0.85 and m["real_accuracy"] > 0.85
    assert abs(m["cas_gap"]) < 6  # both are classifiers of real digits
    assert m["cas_gap"] == pytest.approx(100 * (m["real_accuracy"] - m["cas"]))
    assert set(m) >= {f"cas_class_{k}" for k in range(10)}
    s = good["settings"]
    assert (s["n_fake"], s["n_real_train"], s["steps"], s["seed"]) == (300, 300, STEPS, 0)
    assert s["classifier"].startswith("SmallCNN")
    wrong = cas.cas_metrics(DigitsLookup(shift=1), "digits", n=300, steps=STEPS, progress=False)
    assert wrong["cas"] < 0.1 and wrong["cas_gap"] > 75
    assert (wrong["cas_n_fake"], wrong["cas_steps"], wrong["cas_seed"]) == (300, STEPS, 0)


def test_a_short_trained_cgan_gets_a_score_and_the_real_side_is_cached(trained_runs, cache):
    G = ganforge.load(trained_runs["digits-cgan"])
    first = cas.classification_accuracy_score(G, "digits", n=200, steps=100, progress=False)
    m = first["metrics"]
    assert 0 <= m["cas"] <= 1 and 0 <= m["real_accuracy"] <= 1
    assert all(0 <= m[f"cas_class_{k}"] <= 1 for k in range(10))
    assert m["cas_gap"] == pytest.approx(100 * (m["real_accuracy"] - m["cas"]))
    assert not first["settings"]["real_accuracy_cached"]
    files = list(cache.glob("digits-8px-n200-s100-seed0-*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["real_accuracy"] == m["real_accuracy"]
    assert not list(cache.glob(".*.tmp"))  # written atomically: no temporary file left
    again = cas.classification_accuracy_score(G, "digits", n=200, steps=100, progress=False)
    assert again["settings"]["real_accuracy_cached"]
    assert again["metrics"] == first["metrics"]  # seeded: the same CAS, and the cached real side


def test_a_torn_cache_file_is_computed_again_and_the_key_holds_the_settings(cache):
    acc, cached, _ = cas.real_accuracy("digits", 100, 50, 0, resolution=8)
    (path,) = cache.glob("*.json")
    path.write_text('{"key": "torn')
    assert cas.real_accuracy("digits", 100, 50, 0, resolution=8) == (acc, False, 100)
    assert cas.real_accuracy("digits", 100, 50, 0, resolution=8) == (acc, True, 100)
    for other in ({"seed": 1}, {"n": 120}, {"steps": 40}, {"resolution": 16}):
        settings = {"domain": "digits", "n": 100, "steps": 50, "seed": 0, "resolution": 8, **other}
        assert not cas.real_accuracy(**settings)[1], other
    assert len(list(cache.glob("*.json"))) == 5


def test_evaluate_cas_from_the_command_line(trained_runs, copy_run, capsys, monkeypatch):
    monkeypatch.setattr(cas, "DEFAULT_STEPS", 100)  # the command's default steps, shortened for the test
    run = copy_run("digits-cgan")
    code, out, err = run_cli(capsys, "evaluate", run, "--metrics", "cas", "--n", "100", "--seed", "2")
    assert code == 0, err
    record = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()
              if '"evaluate": "cas"' in line][-1]
    assert record["Metric/cas_n_fake"] == 100 and record["Metric/cas_steps"] == 100
    assert record["Metric/cas_seed"] == 2 and "Metric/cas_gap" in record
    assert record["settings"]["n_fake"] == 100 and record["settings"]["split"] == "test"


def test_an_unconditional_model_is_refused_in_one_line(trained_runs, capsys):
    code, out, err = run_cli(capsys, "evaluate", trained_runs["digits"], "--metrics", "cas")
    assert_one_line_error(code, err, "CAS needs a class-conditional generator")


def test_cas_refuses_what_it_cannot_score():
    for G, domain, options, fragment in [
            (DigitsLookup(c_dim=3), "digits", {}, "conditional on 3 classes but digits has 10"),
            (DigitsLookup(), "cifar10", {}, "domain classifier"),
            (DigitsLookup(), "digits", {"n": 5}, "sample count"),
            (DigitsLookup(), "digits", {"steps": 0}, "classifier steps")]:
        with pytest.raises(GanforgeError, match=fragment) as e:
            cas.classification_accuracy_score(G, domain, **options)
        assert "\n" not in str(e.value)
