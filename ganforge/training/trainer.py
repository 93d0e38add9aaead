"""The training loop: the same for every game. Read `Trainer.fit` and `Trainer.train_step`
top to bottom.

The loop sees a game (ganforge/games/: what is trained) with two sides, G and D, each with
its own optimiser, and the game's list of phases. One step = the phases in order, each
`Phase.updates_at(step)` times (the generation game: D n_critic times, lazy R1, then G);
then the EMA copy of G follows G. Samples, evaluation and exports use the EMA copy. The
loop also owns checkpoints and exact resume, the health roll-back, stats and their sinks,
the time budget, torchrun/DDP and the pictures at intervals; what the data is (points,
images, ...) is the domain's business (ganforge/domains/), never the loop's.
"""

from __future__ import annotations

import copy
import math
import os
import sys
import time
from pathlib import Path
from typing import Callable

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ganforge import atomic, modeling, provenance
from ganforge.config import Config, preset_config, validate
from ganforge.domains import DOMAINS
from ganforge.errors import GanforgeError
from ganforge.games import GAMES, Context, Phase
from ganforge.training import checkpoint, distributed, runtime, sync_batchnorm
from ganforge.training.batches import to_model_range
from ganforge.training.ema import EMA
from ganforge.training.health import HealthMonitor, mean_pairwise_distance
from ganforge.training.interrupt import Interrupted, deferred_interrupt
from ganforge.training.run_dir import check_run_dir, check_writable, prepare_run_dir
from ganforge.training.runtime import write_run_info
from ganforge.training.stats import JsonlSink, Stats, progress_sink
from ganforge.training.tensorboard import TensorBoardSink, require_tensorboard
from ganforge.viz.report import write_report

KEEP_CHECKPOINTS = 3
MAX_ROLLBACKS = 3  # divergences recovered (at half the learning rates each) before a run stops
FOLDER_CACHE = ".ganforge-cache"  # beside run directories: decoded image folders

__all__ = ["Phase", "Trainer", "train"]


class Trainer:
    """Trains one run in `run_dir`: config.yaml, metrics.jsonl, samples/, checkpoints/, model/."""

    def __init__(self, cfg: Config | None, run_dir: str | Path, *, resume: str | None = None,
                 force: bool = False, progress: bool = True, steps: int | None = None,
                 models: tuple[nn.Module, nn.Module] | None = None, owner: str = "train",
                 dry_run: bool = False):
        """`resume` ("latest" or a checkpoint path) continues a run with its own config,
        where `steps` may raise the step budget; `force` starts over in a used run dir
        (only one a ganforge run wrote). `models` = (G, D), your own networks for the game
        (generation: G(z, c), D(x, c) -> (B,) logits) in place of the config's families;
        pass them again to resume.
        `owner` is recorded in the run directory's marker (the demo passes "demo").
        `dry_run` sets up and checks everything a run would, then writes nothing (no `fit`)."""
        self.run_dir = Path(run_dir)
        self.owner, self.dry_run = owner, dry_run
        ckpt = check_run_dir(self.run_dir, resume, force)  # reads only: a bad option must not cost a run
        if ckpt is not None:
            if steps is not None and steps <= int(ckpt["step"]):
                raise GanforgeError(f"--steps {steps} must exceed the checkpoint's step {int(ckpt['step'])}")
            cfg = Config.from_dict(ckpt["config"])  # a resumed run keeps its config
        if cfg is None:
            raise GanforgeError("no config given: pass a Config, or resume= an existing run")
        if steps is not None:
            cfg.train.steps = steps
        self.cfg = cfg = validate(cfg)
        # under torchrun: join the process group (one process: a no-op Distributed())
        self.dist, device_name = distributed.from_env(cfg.train.device, cfg.train.dist_timeout)
        main = self.dist.is_main
        self.progress = progress and main
        self.device = runtime.select_device(device_name)
        # CPU threads: the cores the machine has free (a busy machine's extra thread only waits)
        runtime.set_threads(cfg.train.threads, processes=int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
        if self.device.type == "cpu":
            runtime.tune_allocator()
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed shapes every step: let cuDNN pick its fastest kernels
        self.amp = runtime.amp_dtype(cfg.train.amp, self.device)
        torch.manual_seed(cfg.train.seed)  # weight initialisation and dropout

        # image folders are decoded once, into a cache beside the run that every run there shares
        with self.dist.main_first():  # (rank 0 writes the cache, the others read it)
            self.data = GAMES[cfg.game.name].load_data(cfg, None if dry_run else self.run_dir.parent / FOLDER_CACHE)
        self._check_data()
        self.local_batch = self.dist.local_batch(cfg.train.batch_size)  # this rank's share of each batch
        # the same on every rank: each draws the global batch's numbers and takes its slice
        self.noise = torch.Generator(self.device).manual_seed(cfg.train.seed + 1)  # z, labels, GP mixing
        self.data_rng = torch.Generator().manual_seed(cfg.train.seed + 2)         # batch order, toys
        self.augment_rng = torch.Generator(self.device).manual_seed(cfg.train.seed + 5 + 7919 * self.dist.rank)
        self.stats = Stats([JsonlSink(self.run_dir / "metrics.jsonl")] if main else [])
        self.memory_format = runtime.memory_format(cfg.train.channels_last, self.device, DOMAINS[self.data.kind].images,
                                                   on_cpu=GAMES[cfg.game.name].channels_last_on_cpu)
        self.ctx = Context(cfg, self.run_dir, self.device, self.dist, self.stats, self.memory_format,
                           self.noise, self.data_rng, self.augment_rng)
        self.game = GAMES[cfg.game.name](self.ctx, self.data, models=models)

        G, D = self.game.networks()
        if cfg.train.init_from and ckpt is None:  # a later stage starts from an earlier one's G (a resume has its own)
            modeling.load_weights_into(G, cfg.train.init_from)
        if cfg.train.sync_batchnorm and self.dist.enabled:  # statistics of the global batch
            G, D = sync_batchnorm.convert(G, self.device), sync_batchnorm.convert(D, self.device)
        self.G = G.to(self.device, memory_format=self.memory_format)
        self.D = D.to(self.device, memory_format=self.memory_format)
        # the networks as the training step calls them: under torchrun, DDP wrappers that
        # average gradients over ranks
        train_G, train_D = self.game.training_forms(self.G, self.D)
        self.train_G, self.train_D = self.dist.wrap(train_G, self.device), self.dist.wrap(train_D, self.device)
        if self.dist.rank:  # dropout draws differ per rank; weights were made (and DDP-synced) alike
            torch.manual_seed(cfg.train.seed + 7919 * self.dist.rank)
        self.ema = EMA(self.G, cfg.train.ema_half_life, cfg.train.ema_rampup)
        if cfg.train.compile:
            self._compile()
        self.game.bind(self.G, self.D, self.train_G, self.train_D)

        self.opt_g = self._optimizer(self.G, cfg.optim.lr_g)
        self.opt_d = self._optimizer(self.D, cfg.optim.lr_d)
        fp16 = self.amp == torch.float16  # bf16 has fp32's range: no loss scaling needed
        self.scaler_g = torch.amp.GradScaler(self.device.type, enabled=fp16)
        self.scaler_d = torch.amp.GradScaler(self.device.type, enabled=fp16)
        # each side of the game: its network(s), optimiser and loss scaler
        self.players = {"G": (self.G, self.opt_g, self.scaler_g), "D": (self.D, self.opt_d, self.scaler_d)}
        self.phases = self.game.phases()
        self.step = 0
        self._grad_owner: nn.Module | None = None
        self.best_fid = math.inf
        self.evaluation = self.game.evaluation()
        if ckpt is not None:
            self._restore(ckpt)
        if cfg.train.tensorboard:
            require_tensorboard()  # missing: the install hint, before the run directory is touched
        self.dist.barrier()  # every rank has checked the run dir before rank 0 writes to it
        self.tensorboard = None
        if main and dry_run:
            check_writable(self.run_dir)
        elif main:
            self._prepare_outputs(ckpt, clear=force and ckpt is None)
        t = cfg.train
        self.health = HealthMonitor(self.run_dir / "alarms.jsonl", cfg.train.steps) if t.health and main else None
        self.real_diversity = self._real_diversity()
        self.rollbacks = 0
        self._good = copy.deepcopy(self.state_dict())

    @property
    def batches(self):
        """The game's data stream (its position is part of every checkpoint)."""
        return self.game.batches

    @property
    def image_eval(self):
        """The evaluation of generated images (--eval-every), or None (as before games)."""
        from ganforge.training.evaluation import ImageEvaluation
        return self.evaluation if isinstance(self.evaluation, ImageEvaluation) else None

    def __getattr__(self, name: str):
        """What the loop does not have is its game's (trainer.acgan, trainer.fixed_z, ...)."""
        game = self.__dict__.get("game")
        if game is None or name.startswith("__"):
            raise AttributeError(name)
        return getattr(game, name)

    def _prepare_outputs(self, ckpt: dict | None, clear: bool) -> None:
        """Rank 0: create (or clear) the run directory and its config, info and sinks."""
        prepare_run_dir(self.run_dir, clear=clear, by=self.owner)
        if self.cfg.train.tensorboard:
            self.tensorboard = TensorBoardSink(self.run_dir / "tensorboard")
            self.stats.sinks.append(self.tensorboard)
        if ckpt is not None:
            dropped = checkpoint.discard_after(self.run_dir, self.step)
            if dropped:
                print(f"resuming from step {self.step}: removed the later checkpoints (steps "
                      f"{', '.join(map(str, dropped))}) and metrics rows of the abandoned history", file=sys.stderr)
        self.cfg.save(self.run_dir / "config.yaml")
        write_run_info(self.run_dir / "run_info.json", self.device, self.dist.world_size)

    # ----------------------------------------------------------------- the loop
    def fit(self) -> Path:
        """Train to `cfg.train.steps`, then export the EMA generator to run_dir/model."""
        if self.dry_run:
            raise GanforgeError("this Trainer was made with dry_run=True: it checks a run and trains nothing")
        hint = f"the checkpoints in {self.run_dir / 'checkpoints'} are intact: resume with {self._resume_command()}"
        try:
            with distributed.peer_failures(self.dist, hint):
                return self._fit()
        except atomic.CannotWrite as e:  # a full disk: what is safe, and how to go on once there is room
            last = checkpoint.list_checkpoints(self.run_dir)
            step = checkpoint.step_of(last[-1]) if last else 0
            more = f" --steps {self.cfg.train.steps}" if step < self.cfg.train.steps else ""  # (it may predate --steps)
            then = (f"the checkpoints up to step {step} are intact: make room, then resume with "
                    f"{self._resume_command()}{more}" if last else "no checkpoint was written yet")
            raise GanforgeError(f"{e}; {then}") from None
        finally:
            self.dist.close()

    def _resume_command(self) -> str:
        resume = f"--out {self.run_dir} --resume latest"
        return f"the same torchrun command with {resume}" if self.dist.enabled else f"ganforge train {resume}"

    def _fit(self) -> Path:
        total = self.cfg.train.steps
        bar = tqdm(total=total, initial=self.step, unit="step", disable=not self.progress,
                   dynamic_ncols=True, mininterval=0.1 if sys.stderr.isatty() else 5.0, desc=f"train {self.cfg.preset or self.cfg.data.source}")
        self.stats.sinks.append(progress_sink(bar))
        try:
            with deferred_interrupt() as interrupted:
                timed_out = self._loop(bar, interrupted)
        finally:
            bar.close()
            self.stats.sinks.pop()
        if timed_out:
            self.save_checkpoint()  # (again, in case a roll-back came after the end's checkpoint)
            if self.dist.is_main:
                print(f"time budget of {self.cfg.train.minutes:g} min reached at step {self.step} of {total}; "
                      f"exporting. Continue with: {self._resume_command()}", file=sys.stderr)
        elif self.step < total:  # Ctrl-C: stop between steps, so the checkpoint resumes exactly
            self.save_checkpoint()
            raise Interrupted(f"interrupted at step {self.step}; checkpoint saved. Continue with: "
                              f"{self._resume_command()}")
        model_dir = self.run_dir / "model"
        if self.dist.is_main:
            model_dir = self.export()
            if self.tensorboard is not None:
                self.tensorboard.close()
            self.summarise()
        self.dist.barrier()  # the run is finished on disk before any rank returns
        return model_dir

    def summarise(self) -> None:
        """The whole run in pictures: timelapse.gif of the samples, curves.png of the stats,
        and report.html with everything (`ganforge report` rewrites it after evaluations)."""
        write_report(self.run_dir)  # (it builds the timelapse and writes curves.png beside itself)

    def _loop(self, bar: tqdm, interrupted: Callable[[], bool]) -> bool:
        """Train until the last step, Ctrl-C or the time budget; True if the budget ran out."""
        t, total = self.cfg.train, self.cfg.train.steps
        tick, tick_step = time.perf_counter(), self.step
        deadline = time.monotonic() + 60 * t.minutes if t.minutes > 0 else math.inf
        timed_out = False
        stop = False
        while self.step < total and not stop:
            self.train_step()
            bar.update(1)
            # every rank stops at the same step (each has its own clock and Ctrl-C); under
            # torchrun one tiny all-reduce a step (no measurable cost on fashion-dcgan)
            timed_out, stop = self.dist.any(time.monotonic() >= deadline, interrupted())
            stop = stop or timed_out
            last = self.step == total or timed_out  # the end's pictures, metrics and checkpoint
            evaluate = self.evaluation is not None and self.evaluation.due(self.step, last)
            if evaluate:
                self.evaluate()
            if self.step % t.log_every == 0 or last or evaluate:
                elapsed = time.perf_counter() - tick
                if deadline < math.inf:  # the bar ends where the time budget will: an honest ETA
                    reach = self.step + (deadline - time.monotonic()) * (self.step - tick_step) / elapsed
                    bar.total = max(self.step, min(total, round(reach)))
                self.stats.report("Speed/steps_per_s", (self.step - tick_step) / elapsed)
                self.stats.report("Speed/images_per_s", (self.step - tick_step) * t.batch_size / elapsed)
                for name, opt in (("G", self.opt_g), ("D", self.opt_d)):
                    self.stats.report(f"LR/{name}", opt.param_groups[0]["lr"])
                healthy = self._log()
                tick, tick_step = time.perf_counter(), self.step
                if not healthy:  # rolled back to the last good state: go on from there
                    bar.n = self.step
                    bar.refresh()
                    continue
            if (self.step % t.sample_every == 0 or last) and self.dist.is_main:
                self.save_samples()
            if self.step % t.checkpoint_every == 0 or last:
                self.save_checkpoint()
        return timed_out

    def _log(self) -> bool:
        """Average this interval's stats, check the run's health and write the row. False when
        a non-finite loss or weight made the trainer roll back to the last good state."""
        row = self.dist.mean(self.stats.collect())  # the same row on every rank: the same decisions
        bad = next((k for k, v in row.items() if k.startswith("Loss/") and not math.isfinite(v)), None)
        bad = bad or self._non_finite_weights()
        if bad:
            self._roll_back(bad)
            return False
        if self.health is not None:
            alarms = self.health.check_row(self.step, row)
            probe = self.game.probe(self.G)  # G's outputs of fixed inputs, to compare their spread with the data's
            if probe is not None:
                alarms += self.health.check_diversity(self.step, probe, self.real_diversity)
            row.update({f"Health/{a.alarm}": 1.0 for a in alarms})
        self.stats.emit(self.step, row)
        self._good = copy.deepcopy(self.state_dict())  # in memory: what a divergence rolls back to
        return True

    def _roll_back(self, what: str) -> None:
        """Divergence: back to the last good state, at half the learning rates (MAX_ROLLBACKS times)."""
        failed, good = self.step, int(self._good["step"])
        self.rollbacks += 1
        if self.rollbacks > MAX_ROLLBACKS:
            raise GanforgeError(f"training diverged again at step {failed} ({what} not finite) after "
                                f"{MAX_ROLLBACKS} roll-backs at ever lower learning rates; stopped. The checkpoints "
                                f"(up to step {good}) hold no NaN. Try --loss wgan-gp, --r1-gamma 1 or a lower --lr")
        self.stats.discard()
        self._restore(copy.deepcopy(self._good))
        o = self.cfg.optim
        o.lr_g, o.lr_d = o.lr_g / 2, o.lr_d / 2
        if self.dist.is_main:
            self.cfg.save(self.run_dir / "config.yaml")  # the run's config says what it trains with now
        if self.health is not None:
            self.health.non_finite(failed, what, good, o.lr_g, o.lr_d)
        self.stats.report("Health/non_finite", 1.0)

    def train_step(self) -> None:
        # diagnostics (D's outputs, gradient norms) on the last step of each log interval only:
        # on small models their extra ops would cost ~10 % of the step
        self.ctx.detailed = (self.step + 1) % self.cfg.train.log_every == 0
        self._set_learning_rates()
        for phase in self.phases:
            for _ in range(phase.updates_at(self.step)):
                self._update(phase)
        self.step += 1
        self.ema.update(self.G, self.step * self.cfg.train.batch_size, self.cfg.train.batch_size)  # global batch

    def _update(self, phase: Phase) -> None:
        module, optimizer, scaler = self.players[phase.player]
        if self._grad_owner is not module:  # only the phase's side collects gradients
            # (G keeps requires_grad when a D phase keeps its fakes' graph for the G phase)
            self.G.requires_grad_(module is self.G or self.game.g_graph_spans_phases)
            self.D.requires_grad_(module is self.D)
            self._grad_owner = module
        with runtime.autocast(self.device, self.amp):
            loss = phase.loss()
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if self.ctx.detailed and phase.name == phase.player:  # (not for regularisation phases)
            self.stats.report(f"Grad/{phase.name}/norm", grad_norm(module))
        scaler.step(optimizer)
        scaler.update()
        if phase.after is not None:
            phase.after()

    def _compile(self) -> None:
        """--compile: torch.compile the training networks (opt-in: on this project's CPU it gave
        nothing once the allocator was tuned; on GPUs it may). Compiled graphs have no double
        backward, so D stays eager when a gradient penalty (WGAN-GP, R1) differentiates it."""
        self.train_G = torch.compile(self.train_G)
        if not self.game.d_double_backward:
            self.train_D = torch.compile(self.train_D)

    def _optimizer(self, net: nn.Module, lr: float) -> torch.optim.Optimizer:
        o = self.cfg.optim
        if o.name == "rmsprop":
            return torch.optim.RMSprop(net.parameters(), lr=lr)
        # fused: one kernel over all parameters, no per-tensor Python or scalar syncs
        fused = self.device.type in ("cpu", "cuda", "mps")
        return torch.optim.Adam(net.parameters(), lr=lr, betas=(o.beta1, o.beta2), fused=fused)

    def _set_learning_rates(self) -> None:
        """The rate is a pure function of the step, so a resumed run follows the same curve."""
        o, progress = self.cfg.optim, self.step / self.cfg.train.steps
        decay = max(0.0, (progress - o.warmup) / (1 - o.warmup))
        scale = {"none": 1.0, "linear": 1 - decay, "cosine": 0.5 * (1 + math.cos(math.pi * decay))}[o.lr_decay]
        for opt, lr in ((self.opt_g, o.lr_g), (self.opt_d, o.lr_d)):  # the G side's, the D side's
            for group in opt.param_groups:
                group["lr"] = lr * scale

    def _check_data(self) -> None:
        n = len(self.data) if hasattr(self.data, "__len__") else None
        if n is not None and n < self.cfg.train.batch_size:
            raise GanforgeError(f"batch size {self.cfg.train.batch_size} is larger than the dataset "
                                f"'{self.cfg.data.source}' ({n} samples); lower --batch-size")

    # ----------------------------------------------------------------- outputs
    def save_samples(self) -> Path:
        """The game's picture of its fixed inputs through the EMA copy of G (a grid of images,
        a row per class; 2-D points over D's decision surface; input | output | target)."""
        folder = self.run_dir / "samples"
        path = folder / f"step-{self.step:08d}.png"
        samples = self.game.save_samples(self.ema.model, path)
        # the picture says it is generated, by which run and step: no weights file exists yet to hash;
        # no time in it, so that a seeded run's pictures stay bitwise reproducible
        provenance.stamp_png(path, provenance.record(f"training run {self.run_dir.name}, step {self.step}",
                                                     "training sample", created=False, seed=self.cfg.train.seed))
        if self.tensorboard is not None:
            self.tensorboard.add_images(self.step, "samples", samples, nrow=self.game.nrow)
            for name, values in self.game.histograms().items():
                self.tensorboard.add_histogram(self.step, name, values)
        atomic.write_bytes(folder / "latest.png", path.read_bytes())  # (a viewer never sees half a picture)
        return path

    def evaluate(self) -> dict[str, float]:
        """The game's measures of the EMA copy of G, logged as Metric/* (2-D mixtures: mode
        coverage of 2,500 samples; images: the --eval-metrics), keeping the best FID's
        checkpoint. Under torchrun every rank takes part and gets the result."""
        result = self.evaluation(self.ema.model, self.game.data_info(), self.dist)
        for name, value in result.items():
            self.stats.report(f"Metric/{name}", value)
        if result.get("fid", math.inf) < self.best_fid:  # checkpoints/best-fid.pt: never pruned
            self.best_fid = result["fid"]
            state = self.state_dict()  # (every rank: it gathers their random states)
            if self.dist.is_main:
                checkpoint.atomic_save(state, self.run_dir / "checkpoints" / "best-fid.pt")
        if self.health is not None:
            for alarm in self.evaluation.alarms(self.health, self.step, result):
                self.stats.report(f"Health/{alarm.alarm}", 1.0)
        return result

    def _real_diversity(self) -> float:
        """Mean pairwise distance of real samples: the yardstick of the collapse alarm."""
        real = self.game.real_probe()
        return math.nan if real is None else mean_pairwise_distance(to_model_range(real))

    def save_checkpoint(self) -> Path:
        bad = self._non_finite_weights()
        if bad:  # never write NaN to disk
            raise GanforgeError(f"training diverged by step {self.step}: {bad} are not finite; "
                                "the last checkpoint was kept. Try a lower --lr")
        path = checkpoint.checkpoint_path(self.run_dir, self.step)
        state = self.state_dict()  # (every rank: it gathers their random states)
        if self.dist.is_main:
            checkpoint.atomic_save(state, path)
            checkpoint.prune(self.run_dir, KEEP_CHECKPOINTS)
        return path

    def state_dict(self) -> dict:
        """Everything an exact resume needs (the live tensors: copy before changing them).
        Under torchrun every rank must call it: it gathers the ranks' own random streams."""
        own = {"torch": torch.get_rng_state(), "augment": self.augment_rng.get_state().cpu()}
        return {
            "G": self.G.state_dict(), "D": self.D.state_dict(), "G_ema": self.ema.model.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "scaler_g": self.scaler_g.state_dict(), "scaler_d": self.scaler_d.state_dict(),
            "step": self.step, "config": self.cfg.to_dict(), "batches": self.batches.state_dict(),
            "game": self.game.state_dict(),
            "best_fid": self.best_fid, "world_size": self.dist.world_size,
            "rng": {"torch": own["torch"], "noise": self.noise.get_state(),
                    "data": self.data_rng.get_state(), "ranks": self.dist.all_gather(own),
                    "cuda": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else []},
        }

    def _restore(self, ckpt: dict) -> None:
        world = int(ckpt.get("world_size", 1))
        if world != self.dist.world_size:
            raise GanforgeError(f"the checkpoint was written by a run of {world} process(es); resume it with "
                                f"{world} (torchrun --nproc_per_node {world}), not {self.dist.world_size}")
        self.G.load_state_dict(ckpt["G"])
        self.D.load_state_dict(ckpt["D"])
        self.ema.model.load_state_dict(ckpt["G_ema"])
        self.opt_g.load_state_dict(ckpt["opt_g"])
        self.opt_d.load_state_dict(ckpt["opt_d"])
        self.scaler_g.load_state_dict(ckpt["scaler_g"])
        self.scaler_d.load_state_dict(ckpt["scaler_d"])
        self.batches.load_state_dict(ckpt["batches"])
        self.game.load_state_dict(ckpt.get("game", {}))
        rng = ckpt["rng"]
        own = rng["ranks"][self.dist.rank] if "ranks" in rng else {"torch": rng["torch"]}  # (older checkpoints)
        torch.set_rng_state(own["torch"])
        if "augment" in own:
            self.augment_rng.set_state(own["augment"])
        self.noise.set_state(rng["noise"])
        self.data_rng.set_state(rng["data"])
        if rng["cuda"] and self.device.type == "cuda":
            torch.cuda.set_rng_state_all(rng["cuda"])
        self.step = int(ckpt["step"])
        self.best_fid = float(ckpt.get("best_fid", math.inf))

    def export(self) -> Path:
        """Write the game's EMA generator(s) to run_dir/model (config.json + model.safetensors)."""
        return self.game.export(self.ema.model, self.run_dir / "model")

    def _non_finite_weights(self) -> str | None:
        """"G's weights" / "D's weights" if any is NaN or infinite (one host sync per network)."""
        for name, net in (("G", self.G), ("D", self.D)):
            params = list(net.parameters())
            if params and not torch.isfinite(torch.stack(torch._foreach_norm(params))).all():
                return f"{name}'s weights"
        return None


def grad_norm(module: nn.Module) -> Tensor:
    """The L2 norm of all of a module's gradients together, without a host sync."""
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))


def train(cfg: Config | str | None, run_dir: str | Path, *, resume: str | None = None,
          force: bool = False, progress: bool = True, steps: int | None = None) -> Path:
    """Train a run (a Config, or a preset name) and return its exported generator's directory.

    >>> import ganforge
    >>> model_dir = ganforge.train("ring8", "runs/ring8")
    >>> G = ganforge.load(model_dir)
    """
    if isinstance(cfg, str):
        cfg = preset_config(cfg)
    return Trainer(cfg, run_dir, resume=resume, force=force, progress=progress, steps=steps).fit()
