"""SIGKILL at any moment: nothing a killed process was writing is ever trusted.

Training: a real `ganforge train` process (the ring8 toy; a checkpoint every step) is killed
with SIGKILL again and again at seeded random moments (while it starts, while it trains, the
moment a checkpoint or an export is half-written, while it summarises) and resumed after each
kill. After every kill each checkpoint on disk loads and an export, if there is one, loads; in
the end the run finishes, leaves no temporary file, and its final checkpoint and export equal
an uninterrupted run's bitwise.

Caches: a forked writer stores entries 1, 2, 3, ... of the image-folder, reference-statistics
or music cache in a loop and is SIGKILLed at a random moment, many times: what is read back is
either nothing or one whole entry, never a mix or a torn file. And a finished cache file cut
short (as by a disk that lost its tail) is noticed and rebuilt, not trusted.
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch import nn
from safetensors import safe_open
from safetensors.torch import load_file

from ganforge import modeling
from ganforge.data import cache, music
from ganforge.metrics import features, reference
from ganforge.training import checkpoint

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1",
       "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}


# ----------------------------------------------------------------- killing a training run
def _latest(run: Path) -> int:
    found = checkpoint.list_checkpoints(run)
    return checkpoint.step_of(found[-1]) if found else 0


def _landed(run: Path, pid: int) -> str:
    """Where a kill of process `pid` landed, from what it left half-written."""
    names = [p.name for p in run.rglob(f"*.{pid}[.-]*")] if run.is_dir() else []
    for prefix, where in ((".step-", "checkpoint save"), (".model.", "export"), (".latest", "sample"),
                          (".ganforge-run", "run set-up")):
        if any(n.startswith(prefix) for n in names):
            return where
    return "between writes" if names == [] else "another write"


def _when(mode: str, proc: subprocess.Popen, run: Path, steps: int, rng: random.Random) -> bool:
    """Wait for the moment `mode` picks; False if the process ended first."""
    start, first = time.monotonic(), _latest(run)
    if mode == "start":  # any moment of start-up (imports, run set-up, a cache) up to the first checkpoint
        when = start + rng.uniform(0.2, 3.5)
        ready, extra = (lambda: time.monotonic() > when or _latest(run) > first), 0.0
    elif mode == "train":  # a few steps in, at any moment of a step
        k = rng.randint(1, 8)
        ready, extra = (lambda: _latest(run) >= min(first + k, steps)), rng.uniform(0.0, 0.03)
    elif mode == "save":  # the moment a checkpoint is half-written
        folder = run / "checkpoints"
        ready, extra = (lambda: any(folder.glob(f".step-*.{proc.pid}.tmp"))), 0.0
    elif mode == "export":  # the moment the model folder is half-written
        ready, extra = (lambda: any(run.glob(f".model.{proc.pid}-*"))), 0.0
    else:  # "finish": any moment after the last checkpoint (export, timelapse, curves, report)
        done = _latest(run) == steps
        # (the finish takes ~1 s on an idle machine; a resumed process starts in ~2.5 s first)
        ready, extra = (lambda: _latest(run) == steps), rng.uniform(1.0, 2.5) if done else rng.uniform(0.0, 0.5)
    while not ready():
        if proc.poll() is not None:
            return False
        time.sleep(0.001)
    deadline = time.monotonic() + extra
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        time.sleep(0.001)
    return proc.poll() is None


def _check_on_disk(run: Path) -> None:
    """Whatever a kill left: every checkpoint loads whole, an export loads, every metrics row parses."""
    for path in checkpoint.list_checkpoints(run):
        assert checkpoint.load(path)["step"] == checkpoint.step_of(path), path
    if (run / "model").exists():
        modeling.load(run / "model")
    if (run / "metrics.jsonl").exists():
        for line in (run / "metrics.jsonl").read_text().splitlines():
            json.loads(line)


def _train_with_kills(run: Path, config: Path, steps: int, modes: list[str], seed: int) -> Counter:
    """Run to the end through one SIGKILL per mode; returns where the kills landed."""
    rng, landed, logs = random.Random(seed), Counter(), run.parent / "logs"
    logs.mkdir(exist_ok=True)
    for attempt in range(len(modes) + 1):  # (one kill an attempt, then one to the end)
        resume = ["--resume", "latest"] if checkpoint.list_checkpoints(run) else ["--config", str(config), "--force"]
        log = logs / f"{attempt}.txt"
        with open(log, "w") as err:
            proc = subprocess.Popen([sys.executable, "-m", "ganforge", "train", "--out", str(run), "--no-progress",
                                     *resume], env=ENV, stdout=err, stderr=err, cwd=run.parent)
        try:
            if attempt < len(modes) and _when(modes[attempt], proc, run, steps, rng):
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=60)
                landed[f"{modes[attempt]}: {_landed(run, proc.pid)}"] += 1
                _check_on_disk(run)
                continue
            proc.wait(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, f"attempt {attempt} ({' '.join(resume)}) exited {proc.returncode}:\n{log.read_text()}"
        assert attempt == len(modes), f"the run ended before kill {attempt + 1} ({modes[attempt]}) of {len(modes)}"
        return landed
    raise AssertionError("unreachable")


def _assert_same_as_uninterrupted(run: Path, one: Path, steps: int, helpers) -> None:
    helpers.assert_same_state(checkpoint.load(checkpoint.checkpoint_path(one, steps)),
                              checkpoint.load(checkpoint.checkpoint_path(run, steps)), "final checkpoint")
    a, b = load_file(str(one / "model" / "model.safetensors")), load_file(str(run / "model" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), "exported weights differ"
    leftovers = [str(p.relative_to(run)) for p in run.rglob("*") if ".tmp" in p.name]
    assert leftovers == [], leftovers


def _kill_and_resume(tmp_path: Path, helpers, cfg, modes: list[str], seed: int) -> Counter:
    steps = cfg.train.steps
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    run = tmp_path / "killed" / "run"
    run.parent.mkdir()
    landed = _train_with_kills(run, config, steps, modes, seed)
    _check_on_disk(run)
    helpers.train_run(cfg, tmp_path / "one")
    _assert_same_as_uninterrupted(run, tmp_path / "one", steps, helpers)
    print(f"kills landed: {dict(landed)}")
    return landed


def _plan(rng: random.Random, counts: dict[str, int]) -> list[str]:
    """Kills during training in a seeded order, then those of the run's end."""
    early = [m for m in ("start", "train", "save") for _ in range(counts.get(m, 0))]
    rng.shuffle(early)
    return early + ["export"] * counts.get("export", 0) + ["finish"] * counts.get("finish", 0)


def _ring8(helpers, steps: int):
    return helpers.tiny_config("ring8", train={"steps": steps, "checkpoint_every": 1, "sample_every": 10,
                                               "log_every": 5})


def test_sigkill_at_random_moments_then_resume_equals_an_uninterrupted_run(tmp_path, helpers):
    plan = _plan(random.Random(0), {"start": 1, "train": 1, "save": 2, "export": 1, "finish": 1})
    _kill_and_resume(tmp_path, helpers, _ring8(helpers, 40), plan, seed=0)


@pytest.mark.slow
def test_twenty_sigkills_then_resume_equals_an_uninterrupted_run(tmp_path, helpers):
    plan = _plan(random.Random(1), {"start": 3, "train": 6, "save": 6, "export": 2, "finish": 3})
    landed = _kill_and_resume(tmp_path, helpers, _ring8(helpers, 120), plan, seed=1)
    assert sum(n for k, n in landed.items() if k.endswith("checkpoint save")) >= 1, landed


@pytest.mark.slow
def test_sigkills_of_an_image_folder_run_with_its_decoded_cache(tmp_path, helpers):
    from sklearn.datasets import load_digits
    from PIL import Image

    folder = tmp_path / "digits"
    for d in range(2):
        (folder / str(d)).mkdir(parents=True)
    images, labels = load_digits(return_X_y=True)
    for i, (x, y) in enumerate(zip(images[:400], labels[:400])):
        Image.fromarray((x.reshape(8, 8) * 255 / 16).astype(np.uint8)).save(folder / str(y % 2) / f"{i}.png")
    cfg = helpers.tiny_config("digits", data={"source": str(folder)},
                              train={"steps": 40, "checkpoint_every": 1, "sample_every": 10, "log_every": 5})
    plan = _plan(random.Random(2), {"start": 3, "train": 3, "save": 3, "export": 1, "finish": 1})
    _kill_and_resume(tmp_path, helpers, cfg, plan, seed=2)
    entries = sorted((tmp_path / "killed" / ".ganforge-cache").iterdir())
    assert [p.suffix for p in entries] == [".json", ".u8"], entries  # one whole entry, no temporaries


# ----------------------------------------------------------------- killing a cache writer
def _kill_writer_repeatedly(write, check, rounds: int, seed: int, max_delay: float = 0.12) -> None:
    """Fork a child that calls write(1), write(2), ... for ever; SIGKILL it at a random moment
    and check() what it left, `rounds` times (each round writes new numbers)."""
    rng = random.Random(seed)
    for r in range(rounds):
        pid = os.fork()
        if pid == 0:  # the child: write until killed (exit 1 on any error)
            try:
                i = 1000 * r + 1
                while True:
                    write(i)
                    i += 1
            except BaseException:
                traceback.print_exc()
            os._exit(1)
        time.sleep(rng.uniform(0.0, max_delay))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status), "the writer failed before it was killed"
        check()


def test_a_killed_image_cache_write_is_never_read_back(tmp_path):
    root, size, cdir = tmp_path / "images", (32, 32), tmp_path / "cache"
    shape = (400, 3, *size)  # 1.2 MB an entry

    def write(i: int) -> None:
        image = np.full((*size, 3), i % 251, np.uint8)  # (H, W, C), as decoded
        cache.write(cdir, root, size, 3, f"fp{i}", ((f"{i}-{k}.png", image) for k in range(shape[0])))

    def check() -> None:
        _, manifest = cache.entry_paths(cdir, root, size, 3)
        if not manifest.exists():  # (the manifest goes last: no manifest, no entry)
            assert cache.read(cdir, root, size, 3, "fp1") is None
            return
        fp = json.loads(manifest.read_text())["fingerprint"]  # always whole
        got = cache.read(cdir, root, size, 3, fp)
        i = int(fp[2:])
        assert got is not None and got.x.shape == shape and (got.x == i % 251).all() and got.kept[0] == f"{i}-0.png"

    _kill_writer_repeatedly(write, check, rounds=12, seed=0)
    write(1)  # a whole write afterwards also clears what the killed ones left
    assert sorted(p.name for p in cdir.iterdir() if ".tmp" in p.name) == []


def _reference(i: int) -> reference.ReferenceStats:
    f = torch.full((500, 256), float(i))
    return reference.ReferenceStats(f, torch.full((256,), float(i), dtype=torch.float64),
                                    torch.full((256, 256), float(i), dtype=torch.float64), None, None,
                                    "x", "data", "train", 500, f"fp{i}", None, cached=False)


def test_a_killed_reference_statistics_write_is_never_read_back(tmp_path):
    path = tmp_path / "ref" / "data_train_all.safetensors"

    def check() -> None:
        if not path.exists():
            return
        with safe_open(str(path), framework="pt") as f:  # always whole
            fp = json.loads(f.metadata()["reference"])["fingerprint"]
        got = reference._read(path, fp)
        assert got is not None and (got.features == float(fp[2:])).all() and (got.sigma == float(fp[2:])).all()

    _kill_writer_repeatedly(lambda i: reference._write(path, _reference(i)), check, rounds=12, seed=1)
    reference._write(path, _reference(1))
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def _pieces(i: int) -> music.Pieces:
    notes = np.full((100_000, 4), i, np.int32)
    return music.Pieces(notes, np.array([0, 50_000, 100_000]), np.array([64, 64]), [f"a{i}", f"b{i}"],
                        ["S"], [0], 100.0, [])


def test_a_killed_music_cache_write_is_never_read_back(tmp_path):
    paths = (tmp_path / "music-x.npz", tmp_path / "music-x.json")

    def check() -> None:
        if not paths[1].exists():
            assert music._read(paths, "k1") is None
            return
        key = json.loads(paths[1].read_text())["key"]
        got = music._read(paths, key)
        assert got is not None and (got.notes == int(key[1:])).all() and got.names == [f"a{key[1:]}", f"b{key[1:]}"]

    _kill_writer_repeatedly(lambda i: music._write(paths, f"k{i}", _pieces(i)), check, rounds=12, seed=2)
    music._write(paths, "k1", _pieces(1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["music-x.json", "music-x.npz"]


# ----------------------------------------------------------------- torn files
CUTS = {"empty": lambda n: 0, "header only": lambda n: 16, "half": lambda n: n // 2, "one byte short": lambda n: n - 1}


def _cut(path: Path, how: str) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:CUTS[how](len(data))])


@pytest.mark.parametrize("how", list(CUTS))
@pytest.mark.parametrize("which", [".u8", ".json"])
def test_a_torn_image_cache_file_is_noticed_and_rebuilt(which, how, tmp_path, caplog):
    root, cdir, size = tmp_path / "images", tmp_path / "cache", (8, 8)
    x = np.arange(5 * 8 * 8 * 3, dtype=np.uint8).reshape(5, 8, 8, 3)  # (N, H, W, C) rows, as decoded
    rows = lambda: ((f"{k}.png", x[k]) for k in range(5))  # noqa: E731
    cache.write(cdir, root, size, 3, "fp", rows())
    array, manifest = cache.entry_paths(cdir, root, size, 3)
    _cut(array if which == ".u8" else manifest, how)
    with caplog.at_level(logging.WARNING, logger="ganforge"):
        assert cache.read(cdir, root, size, 3, "fp") is None  # not trusted (and no traceback)
    assert any("ignoring the image cache" in r.getMessage() for r in caplog.records)
    cache.write(cdir, root, size, 3, "fp", rows())
    assert np.array_equal(cache.read(cdir, root, size, 3, "fp").x, x.transpose(0, 3, 1, 2))  # rebuilt whole


class _Tiny(nn.Module):  # uint8 (B, 1, 8, 8) -> 5 features
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(64, 5)

    def forward(self, x):
        return self.lin(x.float().flatten(1))


@pytest.mark.parametrize("how", list(CUTS))
def test_a_torn_reference_statistics_file_is_recomputed(how, tmp_path):
    data, cdir = tmp_path / "tiny.npy", tmp_path / "cache"
    np.save(data, np.random.default_rng(0).integers(0, 256, (40, 1, 8, 8), dtype=np.uint8))
    torch.manual_seed(0)
    ext = features.get_extractor(_Tiny(), label="tiny")
    first = reference.reference_stats(str(data), ext, cache_dir=cdir)
    _cut(first.path, how)
    again = reference.reference_stats(str(data), ext, cache_dir=cdir)
    assert not again.cached and torch.equal(again.features, first.features)
    assert reference.reference_stats(str(data), ext, cache_dir=cdir).cached  # and written whole again


@pytest.mark.parametrize("how", list(CUTS))
@pytest.mark.parametrize("which", [".npz", ".json"])
def test_a_torn_music_cache_file_is_noticed(which, how, tmp_path):
    paths = (tmp_path / "music-x.npz", tmp_path / "music-x.json")
    music._write(paths, "k", _pieces(3))
    _cut(paths[0] if which == ".npz" else paths[1], how)
    assert music._read(paths, "k") is None


def test_an_export_killed_between_its_two_renames_gets_the_earlier_one_back(trained_runs, tmp_path):
    """_swap_into_place moves the earlier export aside, then renames the new one in: a kill in
    between leaves no model folder at all. The next export puts the earlier one back first."""
    G = modeling.load(trained_runs["ring8"])
    out = modeling.save_pretrained(G, tmp_path / "model")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # a process that has exited
    os.replace(out, tmp_path / f".model.{pid}-0badcafe.tmp.old")
    (tmp_path / f".model.{pid}-0badcafe.tmp").mkdir()  # the new export, whole or not
    modeling._clear_leftovers(out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before and sorted(tmp_path.iterdir()) == [out]
