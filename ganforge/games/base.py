"""What every game gives the training loop, and what the loop lends every game.

A game (one file each in ganforge/games/) decides what is trained: its two sides, `G` (the
network(s) that make things) and `D` (the network(s) that judge them), each trained by one
optimiser; the phases of a step and each phase's loss; the sample picture; what is
measured and exported. The loop (ganforge/training/trainer.py) owns everything else:
devices, optimisers, EMA, checkpoints, exact resume, health, stats, torchrun.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from ganforge.config import Config
    from ganforge.training.distributed import Distributed
    from ganforge.training.stats import Stats


@dataclass
class Phase:
    """One kind of update in a step: `loss()` builds the loss of `player`'s ("G" or "D")
    optimiser. `updates_at(step)` gives n_critic and lazy regularisation without if-chains."""
    name: str
    loss: Callable[[], Tensor]        # builds this phase's loss (and reports its stats)
    player: str                       # "G" or "D": whose weights this phase updates
    repeats: int = 1                  # updates in a row (n_critic)
    interval: int = 1                 # lazy regularisation: one update per `interval` updates...
    of: int = 1                       # ...of a phase that makes `of` a step (R1 counts D's n_critic)
    after: Callable[[], None] | None = None  # e.g. weight clipping after each update
    start: int = 0                    # stages: the phase runs from step `start`...
    stop: int | None = None           # ...up to, not including, step `stop` (None: to the end)

    def updates_at(self, step: int) -> int:
        """Updates at `step`: one per multiple of `interval` among the counted updates this
        step makes, [step * of, (step + 1) * of) (so step 0 always runs), `repeats` times;
        none outside the phase's stage [start, stop) (pre-training, then the adversarial game)."""
        if step < self.start or (self.stop is not None and step >= self.stop):
            return 0
        first, end = step * self.of, (step + 1) * self.of
        due = -(-end // self.interval) - -(-first // self.interval)  # multiples of interval in [first, end)
        return self.repeats * due


@dataclass
class Context:
    """What the loop lends a game: the run's settings and its shared machinery."""
    cfg: Config
    run_dir: Path
    device: torch.device
    dist: Distributed
    stats: Stats
    memory_format: torch.memory_format
    noise: torch.Generator            # the same on every rank: z, labels, penalty mixing, pools
    data_rng: torch.Generator         # the same on every rank: batch order, crops, toys
    augment_rng: torch.Generator      # this rank's own: DiffAugment
    detailed: bool = False            # this step reports diagnostics (D's outputs, gradient norms)

    def global_draw(self, draw: Callable[..., Tensor], n: int, *shape: int) -> Tensor:
        """This rank's n of the world_size * n numbers drawn from the shared noise generator:
        N processes draw what one process draws for the global batch."""
        x = draw(n * self.dist.world_size, *shape, device=self.device, generator=self.noise)
        return self.dist.shard(x)


class Game:
    """The base of every game; see ganforge/games/generation.py for a complete one."""

    name = "game"
    families: tuple[str, ...] = ()  # the model families (--model) its G may be
    # True when a phase keeps G's graph for a later phase (the D step's fakes reused by the
    # G step: one G forward a step), so G collects gradients in every phase
    g_graph_spans_phases = False
    # True when D is differentiated twice (gradient penalties): torch.compile leaves it eager
    d_double_backward = False
    # False when the game's networks run slower in NHWC on a CPU: there --channels-last auto keeps NCHW
    channels_last_on_cpu = True

    def __init__(self, ctx: Context, data):
        self.ctx, self.data = ctx, data

    @staticmethod
    def load_data(cfg: Config, cache_dir: Path | None = None):
        """The game's training data, from cfg.data (one dataset here; pairs, two domains...)."""
        from ganforge.data import load_data
        from ganforge.data.audio import representation_for
        d = cfg.data
        return load_data(d.source, d.resolution, d.channels, cache_dir=cache_dir,
                         bars=d.bars, tracks=d.tracks, transpose=d.transpose,
                         atoms=d.atoms, max_atoms=d.max_atoms, sample_rate=d.sample_rate, length=d.length,
                         clips_per_word=d.clips_per_word,
                         representation=representation_for(d.representation, cfg.model.family))

    # -- networks: build them, then receive the forms the training step calls (DDP, compiled)
    def networks(self) -> tuple[nn.Module, nn.Module]:
        """(G, D): each side may hold several networks (CycleGAN: both generators in G)."""
        raise NotImplementedError

    def training_forms(self, G: nn.Module, D: nn.Module) -> tuple[nn.Module, nn.Module]:
        """The modules the loop wraps in DDP: every call that must sync gradients goes
        through their forward."""
        return G, D

    def bind(self, G: nn.Module, D: nn.Module, train_G: nn.Module, train_D: nn.Module) -> None:
        self.G, self.D, self.train_G, self.train_D = G, D, train_G, train_D

    def phases(self) -> list[Phase]:
        raise NotImplementedError

    # -- state the game owns beyond the networks (exact resume)
    batches = None  # the data stream: next() and state_dict()/load_state_dict()

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass

    # -- outputs
    nrow: int | None = None  # columns of the sample picture (None: a square grid)

    def save_samples(self, G_ema: nn.Module, path: Path) -> Tensor:
        """Write the sample picture of the fixed inputs; return what it shows."""
        raise NotImplementedError

    def probe(self, G: nn.Module) -> Tensor | None:
        """G's outputs for fixed inputs (eval mode), for the collapse alarm; None: no alarm."""
        return None

    def real_probe(self) -> Tensor | None:
        """Real samples the probe's spread is compared with."""
        return None

    def evaluation(self):
        """An object with due(step, last), __call__(G_ema, data_info, dist) -> {name: value}
        and alarms(health, step, result); None when nothing is measured during training."""
        return None

    def data_info(self) -> dict:
        raise NotImplementedError

    def export(self, G_ema: nn.Module, out_dir: Path) -> Path:
        from ganforge import modeling
        return modeling.save_pretrained(G_ema, out_dir, self.data_info())

    def histograms(self) -> dict[str, Tensor]:
        """Tensors for TensorBoard histograms at sample time (e.g. D's last logits)."""
        return {}
