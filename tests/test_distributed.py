"""Training on several processes through torchrun (gloo on the CPU), for real: 2 processes
compute what one process computes on the same global batch, runs resume, and a killed rank
ends the run with one clear line instead of a hang."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ganforge.config import Config, merge
from ganforge.errors import GanforgeError
from ganforge.metrics.features import Features, extract_from_generator
from ganforge.models import dcgan
from ganforge.training import checkpoint
from ganforge.training.batches import DatasetBatches
from ganforge.training.distributed import Distributed
from ganforge.training.trainer import Trainer

sys.path.insert(0, str(Path(__file__).parent))
from ddp_scenarios import CONTROLS, SCENARIOS, STEPS  # noqa: E402

WORKER = Path(__file__).parent / "ddp_worker.py"


def torchrun(*args: str, nproc: int = 2) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *args]


def run_env(tmp_path: Path) -> dict:
    return {**os.environ, "GANFORGE_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}


# ----------------------------------------------------------------- 2 processes = 1 process
@pytest.fixture(scope="module")
def two_process_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    env = {**os.environ, "GANFORGE_CACHE": str(out / "cache")}
    proc = subprocess.run(torchrun(str(WORKER), str(out), *SCENARIOS, *CONTROLS), env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, json.loads((out / "report.json").read_text())


@pytest.mark.parametrize("name", [*SCENARIOS, *CONTROLS])
def test_two_processes_hold_identical_weights_after_every_step(two_process_runs, name):
    _, report = two_process_runs
    assert report[f"{name}/rank_difference"] == 0.0


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_two_processes_compute_what_one_process_computes_on_the_global_batch(two_process_runs, name,
                                                                            tmp_path, monkeypatch):
    out, report = two_process_runs
    monkeypatch.setenv("GANFORGE_CACHE", str(out / "cache"))
    one = Trainer(SCENARIOS[name](), tmp_path / name, progress=False)
    for _ in range(STEPS):
        one.train_step()
        if one.step == 1:  # D's gradients of the first step: the loss, and the penalty's double backward
            grads = {n: p.grad for n, p in one.D.named_parameters() if p.grad is not None}
    ddp_grads = torch.load(out / f"{name}-grads.pt", weights_only=True)
    assert ddp_grads.keys() == grads.keys()
    for key in grads:
        torch.testing.assert_close(ddp_grads[key], grads[key], rtol=1e-4, atol=1e-6, msg=key)
    weights = torch.load(out / f"{name}-weights.pt", weights_only=True)
    for net, module in (("G", one.G), ("D", one.D)):
        for key, value in module.state_dict().items():
            torch.testing.assert_close(weights[net][key], value, rtol=1e-4, atol=1e-5, msg=f"{net}.{key}")
    if one.image_eval is not None:  # FID from samples made on both ranks and gathered to rank 0
        one.evaluate()
        assert report[f"{name}/metrics"]["Metric/fid"] == pytest.approx(one.stats.collect()["Metric/fid"], rel=1e-3)


def test_batchnorm_per_process_is_not_the_global_batch_s(two_process_runs, tmp_path):
    """The control that shows the comparison above can fail: unsynchronised BatchNorm."""
    out, _ = two_process_runs
    one = Trainer(CONTROLS["batchnorm-per-process"](), tmp_path / "one", progress=False)
    for _ in range(STEPS):
        one.train_step()
    weights = torch.load(out / "batchnorm-per-process-weights.pt", weights_only=True)["G"]
    worst = max(float((weights[k] - v).abs().max()) for k, v in one.G.state_dict().items() if v.is_floating_point())
    assert worst > 1e-3


# ----------------------------------------------------------------- the pieces, in one process
def test_the_global_batch_must_divide_among_the_processes():
    with pytest.raises(GanforgeError, match="global batch and must divide evenly among the 3 processes"):
        Distributed(rank=0, world_size=3).local_batch(32)
    assert Distributed(rank=2, world_size=4).local_batch(32) == 8


def test_the_sigterm_line_lasts_as_long_as_the_run():
    from ganforge.training.distributed import PeerLost, _stop_on_sigterm

    mine = lambda signum, frame: None  # noqa: E731 (a handler of the program that trains)
    original = signal.signal(signal.SIGTERM, mine)
    try:
        run = Distributed(rank=1, world_size=2)
        run.previous_sigterm = _stop_on_sigterm(run)
        with pytest.raises(PeerLost, match="rank 1: stopped by torchrun"):
            signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
        run.close()
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, original)


def test_torchruns_sigterm_says_how_to_resume_and_adds_nothing_once_the_rank_is_ending():
    from ganforge.training.distributed import PeerLost, _stop_on_sigterm, peer_failures

    original = signal.getsignal(signal.SIGTERM)
    try:
        run = Distributed(rank=0, world_size=2)
        run.previous_sigterm = _stop_on_sigterm(run)
        with pytest.raises(PeerLost) as stopped, peer_failures(run, "resume with --resume latest"):
            signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
        assert str(stopped.value).count("--resume latest") == 1, stopped.value
        # a SIGTERM that comes while the rank is already raising its own line changes nothing
        run.previous_sigterm = _stop_on_sigterm(run)
        run.stopping = True
        assert signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None) is None
        run.close()
    finally:
        signal.signal(signal.SIGTERM, original)


def test_each_rank_gathers_its_slice_of_the_same_global_batch():
    data = type("Data", (), {"x": torch.arange(40, dtype=torch.uint8).view(40, 1, 1, 1), "y": torch.arange(40)})()
    whole = DatasetBatches(data, 8, torch.device("cpu"), torch.Generator().manual_seed(0))
    ranks = [DatasetBatches(data, 8, torch.device("cpu"), torch.Generator().manual_seed(0),
                            shard=Distributed(rank=r, world_size=2).shard) for r in range(2)]
    for _ in range(12):  # across epoch boundaries
        x, y = whole.next()
        parts = [r.next() for r in ranks]
        assert [len(p[1]) for p in parts] == [4, 4]
        assert torch.equal(torch.cat([p[0] for p in parts]), x) and torch.equal(torch.cat([p[1] for p in parts]), y)


def test_ranks_shares_of_generated_features_make_the_whole():
    torch.manual_seed(0)
    G = dcgan.Generator(z_dim=8, resolution=8, channels=1, width=8, c_dim=3).eval()
    extractor = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 5))
    whole = extract_from_generator(extractor, G, 250, seed=3, batch_size=40, progress=False)
    parts = [extract_from_generator(extractor, G, 250, seed=3, batch_size=40, progress=False, shard=(r, 3))
             for r in range(3)]
    joined = Features.concat(parts)
    torch.testing.assert_close(joined.features, whole.features)
    assert torch.equal(joined.labels, whole.labels)


# ----------------------------------------------------------------- the CLI under torchrun
def tiny_run_config(path: Path, **train) -> Path:
    cfg = SCENARIOS["batchnorm"]()
    cfg.train.eval_every, cfg.train.checkpoint_every, cfg.train.sample_every = 0, 2, 2
    for k, v in train.items():
        setattr(cfg.train, k, v)
    cfg.save(path)
    return path


def test_torchrun_cli_trains_exports_the_single_process_format_and_resumes(tmp_path):
    env = run_env(tmp_path)
    config = tiny_run_config(tmp_path / "config.yaml", steps=4)
    run = tmp_path / "run"
    cmd = torchrun("-m", "ganforge", "train", "--config", str(config), "--out", str(run), "--no-progress")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("run: ") == 1  # rank 0 speaks for the run
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]  # one row per step, written once
    assert json.loads((run / "run_info.json").read_text())["processes"] == 2

    # the exported generator is the single-process format: same config.json, same tensors
    single = tmp_path / "single"
    Trainer(Config.load(config), single, progress=False).fit()
    assert json.loads((run / "model" / "config.json").read_text()) == \
        json.loads((single / "model" / "config.json").read_text())
    ours, theirs = load_file(run / "model" / "model.safetensors"), load_file(single / "model" / "model.safetensors")
    assert ours.keys() == theirs.keys()
    for key in ours:
        torch.testing.assert_close(ours[key], theirs[key], rtol=1e-4, atol=1e-5, msg=key)

    resumed = subprocess.run(torchrun("-m", "ganforge", "train", "--out", str(run), "--resume", "latest",
                                      "--steps", "6", "--no-progress"),
                             env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert checkpoint.list_checkpoints(run)[-1].name == "step-00000006.pt"

    alone = subprocess.run([sys.executable, "-m", "ganforge", "train", "--out", str(run), "--resume", "latest",
                            "--steps", "8"], env=env, capture_output=True, text=True, timeout=120)
    assert alone.returncode == 2
    assert alone.stderr.strip().splitlines()[-1] == ("error: the checkpoint was written by a run of 2 process(es); "
                                                     "resume it with 2 (torchrun --nproc_per_node 2), not 1")


def _worker_pids(parent: int) -> dict[int, int]:
    """rank -> pid of torchrun's worker processes (children of its agent)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            environ = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError):
            continue
        rank = next((int(v[5:]) for v in environ if v.startswith(b"RANK=")), None)
        if ppid == parent and rank is not None:
            found[rank] = int(entry.name)
    return found


def test_a_killed_rank_ends_the_run_with_one_line_and_the_checkpoint_resumes(tmp_path):
    env = run_env(tmp_path)
    config = tiny_run_config(tmp_path / "config.yaml", steps=100_000, checkpoint_every=5, log_every=5,
                             sample_every=100_000)
    run = tmp_path / "run"
    proc = subprocess.Popen(torchrun("-m", "ganforge", "train", "--config", str(config), "--out", str(run),
                                     "--no-progress"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 120
        while len(checkpoint.list_checkpoints(run)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = _worker_pids(proc.pid)
        assert sorted(workers) == [0, 1], workers
        os.kill(workers[1], signal.SIGKILL)
        _, stderr = proc.communicate(timeout=90)  # ended, not hung
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    lines = [line for line in stderr.splitlines() if line.startswith("error: rank 0")]
    assert len(lines) == 1, stderr[-3000:]
    # rank 0 either meets the broken connection itself or is first stopped by torchrun's
    # SIGTERM (which wins depends on the machine's load): either way one line, and the hint
    assert ("lost contact with another training process" in lines[0]
            or "stopped by torchrun because another training process ended" in lines[0]), lines[0]
    assert "checkpoints in" in lines[0] and "--resume latest" in lines[0]
    last = checkpoint.list_checkpoints(run)[-1]
    step = checkpoint.load(last)["step"]  # intact: written atomically
    resumed = subprocess.run(torchrun("-m", "ganforge", "train", "--out", str(run), "--resume", "latest",
                                      "--steps", str(step + 2), "--no-progress"),
                             env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert (run / "model" / "model.safetensors").is_file()


def test_ctrl_c_stops_every_rank_at_the_same_step_with_a_checkpoint(tmp_path):
    env = run_env(tmp_path)
    config = tiny_run_config(tmp_path / "config.yaml", steps=100_000, checkpoint_every=100_000, log_every=5,
                             sample_every=100_000)
    run = tmp_path / "run"
    # a terminal's Ctrl-C goes to torchrun and its workers together: their process group
    proc = subprocess.Popen(torchrun("-m", "ganforge", "train", "--config", str(config), "--out", str(run),
                                     "--no-progress"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (run / "metrics.jsonl").is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "interrupted at step" in lines[0], stderr[-3000:]
    assert "the same torchrun command with --out" in lines[0]
    step = int(lines[0].split("interrupted at step ")[1].split(";")[0])
    assert checkpoint.list_checkpoints(run)[-1].name == f"step-{step:08d}.pt"  # both ranks stopped there


# ----------------------------------------------------------------- GPU-readiness options, on the CPU
@pytest.mark.slow
def test_compiled_networks_train_as_the_eager_ones_do(tmp_path):
    """--compile: the same maths through torch.compile's graphs (minutes of compiling on 2 cores)."""
    eager, compiled = (Trainer(merge(SCENARIOS["batchnorm"](), {"train": {"compile": c, "eval_every": 0}}),
                               tmp_path / str(c), progress=False) for c in (False, True))
    assert hasattr(compiled.train_G, "_orig_mod") and hasattr(compiled.train_D, "_orig_mod")  # compiled
    for _ in range(STEPS):
        eager.train_step()
        compiled.train_step()
    for key, value in eager.G.state_dict().items():
        torch.testing.assert_close(compiled.G.state_dict()[key], value, rtol=1e-4, atol=1e-5, msg=key)
