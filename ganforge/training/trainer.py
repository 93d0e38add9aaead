"""The training loop. Read `Trainer.fit` and `Trainer.train_step` top to bottom.

One step = the phases in order, each `Phase.updates_at(step)` times:
  D      n_critic discriminator updates on real and fresh fake batches (+ WGAN-GP, clipping)
  D_reg  lazy R1 on real data once per r1_interval D updates (when r1_gamma > 0)
  G      one generator update through the (frozen) discriminator
then the EMA generator follows G. Samples, evaluation and exports use the EMA generator.
"""

from __future__ import annotations

import copy
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from ganforge import modeling
from ganforge.augment import DiffAugment
from ganforge.config import Config, preset_config, validate
from ganforge.data import load_data
from ganforge.errors import GanforgeError
from ganforge.losses import LOSSES, clip_weights, gradient_penalty, r1_penalty
from ganforge.metrics import MODE_SAMPLES, mode_coverage
from ganforge.models import build_models
from ganforge.training import checkpoint, distributed, runtime, sync_batchnorm
from ganforge.training.batches import make_batches, to_model_range
from ganforge.training.ema import EMA
from ganforge.training.evaluation import ImageEvaluation
from ganforge.training.health import HealthMonitor, mean_pairwise_distance
from ganforge.training.interrupt import Interrupted, deferred_interrupt
from ganforge.training.run_dir import check_run_dir, check_writable, prepare_run_dir
from ganforge.training.runtime import write_run_info
from ganforge.training.stats import JsonlSink, Stats, progress_sink
from ganforge.training.tensorboard import TensorBoardSink, require_tensorboard
from ganforge.viz.decision import auto_extent, save_decision_surface
from ganforge.viz.grid import save_samples
from ganforge.viz.plots import plot_curves
from ganforge.viz.report import write_report
from ganforge.viz.timelapse import build_timelapse

KEEP_CHECKPOINTS = 3
MAX_ROLLBACKS = 3  # divergences recovered (at half the learning rates each) before a run stops
FOLDER_CACHE = ".ganforge-cache"  # beside run directories: decoded image folders


@dataclass
class Phase:
    name: str
    loss: Callable[[], Tensor]        # builds this phase's loss (and reports its stats)
    module: nn.Module                 # the network this phase updates
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    repeats: int = 1                  # updates in a row (n_critic)
    interval: int = 1                 # lazy regularisation: one update per `interval` updates...
    of: int = 1                       # ...of a phase that makes `of` a step (R1 counts D's n_critic)
    after: Callable[[], None] | None = None  # e.g. weight clipping after each update

    def updates_at(self, step: int) -> int:
        """Updates at `step`: one per multiple of `interval` among the counted updates this
        step makes, [step * of, (step + 1) * of) (so step 0 always runs), `repeats` times."""
        first, end = step * self.of, (step + 1) * self.of
        due = -(-end // self.interval) - -(-first // self.interval)  # multiples of interval in [first, end)
        return self.repeats * due


class Trainer:
    """Trains one run in `run_dir`: config.yaml, metrics.jsonl, samples/, checkpoints/, model/."""

    def __init__(self, cfg: Config | None, run_dir: str | Path, *, resume: str | None = None,
                 force: bool = False, progress: bool = True, steps: int | None = None,
                 models: tuple[nn.Module, nn.Module] | None = None, owner: str = "train",
                 dry_run: bool = False):
        """`resume` ("latest" or a checkpoint path) continues a run with its own config,
        where `steps` may raise the step budget; `force` starts over in a used run dir
        (only one a ganforge run wrote). `models` = (G, D), your own networks (G(z, c),
        D(x, c) -> (B,) logits) in place of the config's family; pass them again to resume.
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
        runtime.set_threads(cfg.train.threads, processes=int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
        if self.device.type == "cpu":
            runtime.tune_allocator()
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed shapes every step: let cuDNN pick its fastest kernels
        self.amp = runtime.amp_dtype(cfg.train.amp, self.device)
        torch.manual_seed(cfg.train.seed)  # weight initialisation and dropout

        # image folders are decoded once, into a cache beside the run that every run there shares
        with self.dist.main_first():  # (rank 0 writes the cache, the others read it)
            self.data = load_data(cfg.data.source, cfg.data.resolution, cfg.data.channels,
                                  cache_dir=None if dry_run else self.run_dir.parent / FOLDER_CACHE)
        self._check_data()
        self.local_batch = self.dist.local_batch(cfg.train.batch_size)  # this rank's share of each batch
        kind, shape = self.data.kind, tuple(self.data.shape)
        self.num_classes = self.data.num_classes if cfg.model.conditional else 0
        self.acgan = bool(self.num_classes) and cfg.model.conditioning == "acgan"
        G, D = models or build_models(cfg, kind, shape, self.data.num_classes, point_scale(self.data))
        self.memory_format = runtime.memory_format(cfg.train.channels_last, self.device, kind)
        if cfg.train.sync_batchnorm and self.dist.enabled:  # statistics of the global batch
            G, D = sync_batchnorm.convert(G, self.device), sync_batchnorm.convert(D, self.device)
        self.G = G.to(self.device, memory_format=self.memory_format)
        self.D = D.to(self.device, memory_format=self.memory_format)
        # the networks as the training step calls them: under torchrun, DDP wrappers that
        # average gradients over ranks (ACGAN's D through one forward for both of its outputs)
        self.train_G = self.dist.wrap(self.G, self.device)
        self.train_D = self.dist.wrap(Discriminating(self.D), self.device)
        if self.dist.rank:  # dropout draws differ per rank; weights were made (and DDP-synced) alike
            torch.manual_seed(cfg.train.seed + 7919 * self.dist.rank)
        self.ema = EMA(self.G, cfg.train.ema_half_life, cfg.train.ema_rampup)
        self.objective, self.constraint = LOSSES[cfg.loss.name]
        if cfg.train.compile:
            self._compile()

        self.opt_g = self._optimizer(self.G, cfg.optim.lr_g)
        self.opt_d = self._optimizer(self.D, cfg.optim.lr_d)
        fp16 = self.amp == torch.float16  # bf16 has fp32's range: no loss scaling needed
        self.scaler_g = torch.amp.GradScaler(self.device.type, enabled=fp16)
        self.scaler_d = torch.amp.GradScaler(self.device.type, enabled=fp16)
        # the same on every rank: each draws the global batch's numbers and takes its slice
        self.noise = torch.Generator(self.device).manual_seed(cfg.train.seed + 1)  # z, labels, GP mixing
        self.data_rng = torch.Generator().manual_seed(cfg.train.seed + 2)         # batch order, toys
        self.batches = make_batches(self.data, cfg.train.batch_size, self.device, self.data_rng,
                                    self.memory_format, shard=self.dist.shard)
        self._fakes: tuple[Tensor, Tensor | None] | None = None  # the D step's fakes, for the G step
        # DiffAugment: D sees every image, real or fake, through the same random augmentations
        self.augment_rng = torch.Generator(self.device).manual_seed(cfg.train.seed + 5 + 7919 * self.dist.rank)
        self.augment = DiffAugment(cfg.train.diffaugment, self.augment_rng) if cfg.train.diffaugment else None
        self.phases = self._phases()
        self.step = 0
        self.stats = Stats([JsonlSink(self.run_dir / "metrics.jsonl")] if main else [])
        self.fixed_z, self.fixed_c = self._fixed_latents()
        self.reference = self._reference_points()
        self._grad_owner: nn.Module | None = None
        self._last_logits: tuple[Tensor, Tensor] | None = None
        self.best_fid = math.inf
        t = cfg.train
        self.image_eval = (ImageEvaluation(self.run_dir, cfg.data.source, t.eval_metrics, t.eval_samples, t.seed)
                           if self.data.kind == "images" and t.eval_every > 0 else None)
        self._detailed_stats = False
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
        self.health = HealthMonitor(self.run_dir / "alarms.jsonl", cfg.train.steps) if t.health and main else None
        self.real_diversity = self._real_diversity()
        self.rollbacks = 0
        self._good = copy.deepcopy(self.state_dict())

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
        build_timelapse(self.run_dir)
        plot_curves(self.run_dir / "metrics.jsonl", self.run_dir / "curves.png")
        write_report(self.run_dir)

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
            evaluate = self._evaluation_due(last)
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
            alarms += self.health.check_diversity(self.step, self._probe_samples(), self.real_diversity)
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

    @torch.no_grad()
    def _probe_samples(self) -> Tensor:
        """G's current samples of the first fixed z (eval mode: no BatchNorm statistics move)."""
        n = 64 if self.data.kind == "images" else 256
        self.G.eval()
        x = self.G(self.fixed_z[:n], None if self.fixed_c is None else self.fixed_c[:n])
        self.G.train()
        return x

    def train_step(self) -> None:
        # diagnostics (D's outputs, gradient norms) on the last step of each log interval only:
        # on small models their extra ops would cost ~10 % of the step
        self._detailed_stats = (self.step + 1) % self.cfg.train.log_every == 0
        self._set_learning_rates()
        for phase in self.phases:
            for _ in range(phase.updates_at(self.step)):
                self._update(phase)
        self.step += 1
        self.ema.update(self.G, self.step * self.cfg.train.batch_size, self.cfg.train.batch_size)  # global batch

    def _update(self, phase: Phase) -> None:
        if self._grad_owner is not phase.module:  # only the phase's network collects gradients
            # (G keeps requires_grad when the D step's fakes are kept for the G step)
            self.G.requires_grad_(phase.module is self.G or self.cfg.train.reuse_fakes)
            self.D.requires_grad_(phase.module is self.D)
            self._grad_owner = phase.module
        with runtime.autocast(self.device, self.amp):
            loss = phase.loss()
        phase.optimizer.zero_grad(set_to_none=True)
        phase.scaler.scale(loss).backward()
        if self._detailed_stats and phase.name in ("D", "G"):
            self.stats.report(f"Grad/{phase.name}/norm", grad_norm(phase.module))
        phase.scaler.step(phase.optimizer)
        phase.scaler.update()
        if phase.after is not None:
            phase.after()

    # ----------------------------------------------------------------- the losses
    def d_loss(self) -> Tensor:
        real, c = self.batches.next()                # (B, ...) in [-1, 1], labels (B,) or None
        z, _ = self.latents(real.shape[0])
        if self.cfg.train.reuse_fakes:               # keep G's graph: the G step reuses these
            fake = self.train_G(z, c)
            self._fakes = (fake, c)
            fake = fake.detach()
        else:
            with torch.no_grad():
                fake = self.train_G(z, c)            # fakes of the real batch's classes
        real_logits, real_aux = self.discriminate(real, c)
        fake_logits, fake_aux = self.discriminate(fake, c)
        loss_real, loss_fake = self.objective.d_real(real_logits), self.objective.d_fake(fake_logits)
        self.stats.report("Loss/D/real", loss_real)
        self.stats.report("Loss/D/fake", loss_fake)
        if self._detailed_stats:
            self._report_d_outputs(real_logits.detach(), fake_logits.detach())
        loss = loss_real + loss_fake
        if self.acgan:  # D learns to tell the classes of real and fake images apart
            aux = real_aux + fake_aux
            self.stats.report("Loss/D/aux", aux)
            loss = loss + self.cfg.loss.aux_weight * aux
        if self.constraint == "gp":
            alpha = self.global_draw(torch.rand, real.shape[0], *[1] * (real.dim() - 1))  # mixing weights
            with torch.autocast(self.device.type, enabled=False):  # penalties in fp32
                gp = gradient_penalty(self.d_seen, real.float(), fake.float(), c, alpha=alpha)
            self.stats.report("Loss/D/gp", gp)
            loss = loss + self.cfg.loss.gp_weight * gp
        self.stats.report("Loss/D", loss)
        return loss

    def r1_loss(self) -> Tensor:
        real, c = self.batches.next()
        outputs: list[Tensor] = []

        def d(x: Tensor, c: Tensor | None) -> Tensor:  # D as the penalty sees it, keeping all it says
            out = self.train_D(x if self.augment is None else self.augment(x), c, with_classes=self.acgan)
            outputs.extend(o for o in (out if self.acgan else (out,)) if o is not None)
            return outputs[0]
        with torch.autocast(self.device.type, enabled=False):
            r1 = r1_penalty(d, real.float(), c)
        self.stats.report("Loss/D/r1", r1)
        # the penalty has no gradient for some of D's weights (its last bias, ACGAN's class
        # head); + 0 * outputs gives them a zero one, as DDP needs one from every weight
        untouched = sum(o.sum() for o in outputs) * 0  # (stylegan2-ada does the same)
        # lazy regularisation: applied once per k D updates, so weighted k times: on average
        # the same as R1 on every D update (Karras et al. 2020)
        return 0.5 * self.cfg.loss.r1_gamma * self.cfg.loss.r1_interval * r1 + untouched

    def g_loss(self) -> Tensor:
        if self._fakes is not None:  # the D step's fakes, through the updated D: one G forward a step
            fake, c = self._fakes
            self._fakes = None
        else:
            z, c = self.latents(self.local_batch)
            fake = self.train_G(z, c)
        logits, aux = self.discriminate(fake, c, D=self.D)  # D is not updated here: no DDP sync
        loss = self.objective.g(logits)
        self.stats.report("Loss/G", loss)
        if self.acgan:  # G makes images D classifies as the asked-for class
            self.stats.report("Loss/G/aux", aux)
            loss = loss + self.cfg.loss.aux_weight * aux
        return loss

    def discriminate(self, x: Tensor, c: Tensor | None, D: nn.Module | None = None) -> tuple[Tensor, Tensor | None]:
        """D's logits (B,) on x, and for ACGAN its classification loss on labels c (else None).
        `D` defaults to the training D (under torchrun the DDP one, which syncs gradients)."""
        D = D if D is not None else self.train_D
        if self.augment is not None:
            x = self.augment(x)
        if not self.acgan:
            return D(x, c), None
        logits, class_logits = D(x, c, with_classes=True) if D is self.train_D else D.forward_with_classes(x, c)
        return logits, F.cross_entropy(class_logits.float(), c)

    def _report_d_outputs(self, real: Tensor, fake: Tensor) -> None:
        """What D says about the batch: logits, probabilities, accuracies and stylegan2-ada's
        overfitting signal r_t = E[sign D(x_real)]."""
        r = self.stats.report
        r("D/real_logit", real.mean())
        r("D/fake_logit", fake.mean())
        r("D/D(x)", torch.sigmoid(real).mean())
        r("D/D(G(z))", torch.sigmoid(fake).mean())
        r("D/real_acc", (real > 0).float().mean())
        r("D/fake_acc", (fake < 0).float().mean())
        r("D/sign_real", real.sign().mean())
        self._last_logits = (real, fake)  # for histograms

    def d_seen(self, x: Tensor, c: Tensor | None) -> Tensor:
        """D as the losses see it (through DiffAugment): what gradient penalties differentiate."""
        return self.train_D(x if self.augment is None else self.augment(x), c)

    def latents(self, n: int) -> tuple[Tensor, Tensor | None]:
        """z ~ N(0, I) (n, z_dim) and uniform class labels (n,) for conditional models."""
        z = self.global_draw(torch.randn, n, self.G.z_dim)
        if not self.num_classes:
            return z, None
        return z, self.global_draw(lambda *s, **kw: torch.randint(self.num_classes, s, **kw), n)

    def global_draw(self, draw: Callable[..., Tensor], n: int, *shape: int) -> Tensor:
        """This rank's n of the world_size * n numbers drawn from the shared noise generator:
        N processes draw what one process draws for the global batch."""
        x = draw(n * self.dist.world_size, *shape, device=self.device, generator=self.noise)
        return self.dist.shard(x)

    # ----------------------------------------------------------------- set-up
    def _phases(self) -> list[Phase]:
        loss = self.cfg.loss
        clip = (lambda: clip_weights(self.D, loss.clip)) if self.constraint == "clip" else None
        phases = [Phase("D", self.d_loss, self.D, self.opt_d, self.scaler_d, repeats=loss.n_critic, after=clip)]
        if loss.r1_gamma > 0:
            phases.append(Phase("D_reg", self.r1_loss, self.D, self.opt_d, self.scaler_d,
                                interval=loss.r1_interval, of=loss.n_critic))
        phases.append(Phase("G", self.g_loss, self.G, self.opt_g, self.scaler_g))
        return phases

    def _compile(self) -> None:
        """--compile: torch.compile the training networks (opt-in: on this project's CPU it gave
        nothing once the allocator was tuned; on GPUs it may). Compiled graphs have no double
        backward, so D stays eager when a gradient penalty (WGAN-GP, R1) differentiates it."""
        self.train_G = torch.compile(self.train_G)
        if not (self.constraint == "gp" or self.cfg.loss.r1_gamma > 0):
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
        for opt, lr in ((self.opt_g, o.lr_g), (self.opt_d, o.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr * scale

    def _fixed_latents(self) -> tuple[Tensor, Tensor | None]:
        """The z every sample picture uses, so pictures across training are comparable;
        conditional models get one row of 8 per class."""
        per_class = 8
        n = 1000 if self.data.kind == "points" else per_class * self.num_classes if self.num_classes else 64
        g = torch.Generator().manual_seed(self.cfg.train.seed + 3)
        z = torch.randn(n, self.G.z_dim, generator=g).to(self.device)
        if not self.num_classes:
            return z, None
        c = torch.arange(n, device=self.device) // per_class if self.data.kind == "images" \
            else torch.arange(n, device=self.device) % self.num_classes
        return z, c

    def _reference_points(self) -> Tensor | None:
        """Real points drawn under the generated ones in 2-D pictures."""
        if self.data.kind != "points":
            return None
        if hasattr(self.data, "sample"):
            return self.data.sample(1000, torch.Generator().manual_seed(0))
        return self.data.x[:1000]

    def _check_data(self) -> None:
        if self.cfg.train.diffaugment and self.data.kind != "images":
            raise GanforgeError(f"--diffaugment augments images; data '{self.cfg.data.source}' is {self.data.kind}")
        n = len(self.data) if hasattr(self.data, "__len__") else None
        if n is not None and n < self.cfg.train.batch_size:
            raise GanforgeError(f"batch size {self.cfg.train.batch_size} is larger than the dataset "
                                f"'{self.cfg.data.source}' ({n} samples); lower --batch-size")

    # ----------------------------------------------------------------- outputs
    @torch.no_grad()
    def sample(self, z: Tensor, c: Tensor | None = None) -> Tensor:
        return self.ema.model(z, c)

    def save_samples(self) -> Path:
        """The fixed z's samples: an image grid (a row per class), or for 2-D data the points
        over D's decision surface."""
        samples = self.sample(self.fixed_z, self.fixed_c)
        folder = self.run_dir / "samples"
        path = folder / f"step-{self.step:08d}.png"
        if self.data.kind == "points" and not self.num_classes and samples.shape[1] == 2:
            with torch.no_grad():  # one frame for the whole run, so the timelapse's frames compare
                save_decision_surface(self.D, self.reference, samples, path,
                                      extent=auto_extent(self.reference, self.reference, margin=0.25))
        else:
            save_samples(samples, path, self.reference, nrow=8 if self.num_classes else None)
        if self.tensorboard is not None:
            self.tensorboard.add_images(self.step, "samples", samples, nrow=8 if self.num_classes else None)
            if self._last_logits is not None:
                self.tensorboard.add_histogram(self.step, "D/real_logits", self._last_logits[0])
                self.tensorboard.add_histogram(self.step, "D/fake_logits", self._last_logits[1])
        shutil.copyfile(path, folder / "latest.png")
        return path

    def _evaluation_due(self, last: bool) -> bool:
        every = self.cfg.train.eval_every
        if self.image_eval is not None:
            return every > 0 and (last or self.step % every == 0)
        return getattr(self.data, "modes", None) is not None and (last or (every and self.step % every == 0))

    def evaluate(self) -> dict[str, float]:
        """2-D mixtures: mode coverage of 2,500 EMA-generator samples; images: the chosen
        metrics (--eval-every), keeping the best FID's checkpoint. Logged as Metric/*."""
        if self.image_eval is not None:
            # every rank makes a share of the samples; rank 0 computes the metrics and tells the others
            result = self.dist.broadcast(self.image_eval(self.ema.model, self._data_info(), self.dist))
            for name, value in result.items():
                self.stats.report(f"Metric/{name}", value)
            if result.get("fid", math.inf) < self.best_fid:  # checkpoints/best-fid.pt: never pruned
                self.best_fid = result["fid"]
                state = self.state_dict()  # (every rank: it gathers their random states)
                if self.dist.is_main:
                    checkpoint.atomic_save(state, self.run_dir / "checkpoints" / "best-fid.pt")
            return result
        result = self.dist.broadcast(self._mode_coverage() if self.dist.is_main else None)
        for name, value in result.items():
            self.stats.report(f"Metric/{name}", value)
        if self.health is not None:
            for alarm in self.health.check_modes(self.step, result["modes"], len(self.data.modes)):
                self.stats.report(f"Health/{alarm.alarm}", 1.0)
        return result

    def _mode_coverage(self) -> dict[str, float]:
        g = torch.Generator(self.device).manual_seed(self.cfg.train.seed + 4)
        z = torch.randn(MODE_SAMPLES, self.G.z_dim, device=self.device, generator=g)
        return mode_coverage(self.sample(z), self.data.modes, self.data.std)

    def _real_diversity(self) -> float:
        """Mean pairwise distance of real samples: the yardstick of the collapse alarm."""
        n = 64 if self.data.kind == "images" else 256
        g = torch.Generator().manual_seed(0)
        x = self.data.sample(n, g) if hasattr(self.data, "sample") else self.data.x[torch.randperm(len(self.data.x), generator=g)[:n]]
        return mean_pairwise_distance(to_model_range(x))

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
        """Write the EMA generator to run_dir/model (config.json + model.safetensors)."""
        return modeling.save_pretrained(self.ema.model, self.run_dir / "model", self._data_info())

    def _data_info(self) -> dict:
        d = self.data
        return {"source": self.cfg.data.source, "kind": d.kind, "shape": list(d.shape),
                "class_names": getattr(d, "class_names", None) if self.num_classes else None}

    def _non_finite_weights(self) -> str | None:
        """"G's weights" / "D's weights" if any is NaN or infinite (one host sync per network)."""
        for name, net in (("G", self.G), ("D", self.D)):
            params = list(net.parameters())
            if params and not torch.isfinite(torch.stack(torch._foreach_norm(params))).all():
                return f"{name}'s weights"
        return None


class Discriminating(nn.Module):
    """D's two entry points behind one forward: DDP syncs gradients only of calls that go
    through its forward, and ACGAN needs D.forward_with_classes."""

    def __init__(self, D: nn.Module):
        super().__init__()
        self.D = D

    def forward(self, x: Tensor, c: Tensor | None = None, with_classes: bool = False):
        return self.D.forward_with_classes(x, c) if with_classes else self.D(x, c)


def grad_norm(module: nn.Module) -> Tensor:
    """The L2 norm of all of a module's gradients together, without a host sync."""
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))


def point_scale(data) -> float:
    """The std of 2-D data over all coordinates (1 for images), from a fixed sample."""
    if data.kind != "points":
        return 1.0
    x = data.sample(10_000, torch.Generator().manual_seed(0)) if hasattr(data, "sample") else data.x
    return float(x.float().std().clamp(min=1e-6))


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
