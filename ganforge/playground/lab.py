"""The 2-D lab's model state and its lean training step (no UI, no threads).

`Lab(settings)` holds G, D, their optimisers and the data; `d_step()` / `g_step()` are the
Trainer's maths (same toy models, objectives, WGAN-GP penalty and Adam update, fresh z each
update, fakes detached in the D update) with less dispatch per step:
  - one D forward on the concatenated real+fake batch (D has no BatchNorm, so each logit
    depends on its own row only);
  - gradients by `torch.autograd.grad` on the updated network's parameters only, so no
    `requires_grad_` toggling and no weight gradients of the frozen network;
  - fused Adam (one kernel over all parameters), called without Optimizer.step's
    per-call regrouping (fast_adam.py);
  - the 2-input layers' gradients computed the fast way round for the CPU BLAS (skinny.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from ganforge.data.dataset import ToyDistribution
from ganforge.data.toy2d import TOYS
from ganforge.losses import LOSSES, gradient_penalty
from ganforge.models import toy
from ganforge.playground.fast_adam import FastAdam
from ganforge.playground.skinny import speed_up_input_layers

DISTRIBUTIONS = ("ring8", "grid25", "spiral", "moons", "drawn")
LAB_LOSSES = ("minimax", "non-saturating", "wgan-gp", "lsgan", "hinge")
OPTIMIZERS = ("adam", "rmsprop", "sgd")
DRAWN_STD = 0.02      # drawn points become a mixture of small Gaussians (output units)
GP_WEIGHT = 10.0      # WGAN-GP lambda, as in the trainer's default
Z_DIM = 2             # the z-grid manifold view needs a 2-D latent space


@dataclass
class LabSettings:
    """Everything the 2-D lab's form can set. Ranges are checked in messages.py."""

    distribution: str = "ring8"
    loss: str = "non-saturating"
    optimizer: str = "adam"
    lr_g: float = 1e-3
    lr_d: float = 2e-3
    n_critic: int = 1
    width: int = 128
    depth: int = 2
    batch_size: int = 512
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def make_distribution(name: str, drawn: Tensor | None = None) -> ToyDistribution:
    """A named toy, or the user's drawn points (N, 2) as a mixture of small Gaussians."""
    if name == "drawn":
        if drawn is None or len(drawn) == 0:
            drawn = TOYS["ring8"]().modes  # nothing drawn yet: a placeholder the user overwrites
        return ToyDistribution("drawn", modes=drawn.float(), std=DRAWN_STD)
    return TOYS[name]()


def data_scale(dist: ToyDistribution) -> float:
    """The data's std over all coordinates (what the points domain's `scale` gives the trainer's toy models)."""
    x = dist.sample(10_000, torch.Generator().manual_seed(0))
    return float(x.std().clamp(min=1e-3))


def make_optimizer(name: str, params: list[Tensor], lr: float) -> torch.optim.Optimizer:
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), fused=True)  # the trainer's betas


class Lab:
    """One 2-D GAN being trained step by step; `render.py` turns it into frames."""

    def __init__(self, settings: LabSettings, drawn: Tensor | None = None, lean: bool = True):
        """`lean=False` keeps the models' layers as built (for comparisons with plain loops)."""
        s = self.settings = settings
        torch.manual_seed(s.seed)  # weight initialisation, as the trainer seeds it
        self.dist = make_distribution(s.distribution, drawn)
        self.scale = data_scale(self.dist)
        self.G = toy.Generator(Z_DIM, 2, s.width, s.depth, 0, self.scale)
        self.D = toy.Discriminator(2, s.width, s.depth, 0, False, self.scale)
        if lean:
            speed_up_input_layers(self.G)
            speed_up_input_layers(self.D)
        self.g_params, self.d_params = list(self.G.parameters()), list(self.D.parameters())
        self.opt_g = make_optimizer(s.optimizer, self.g_params, s.lr_g)
        self.opt_d = make_optimizer(s.optimizer, self.d_params, s.lr_d)
        self._fast = {id(o): FastAdam(o) for o in (self.opt_g, self.opt_d) if s.optimizer == "adam"}
        self.objective, self.constraint = LOSSES[s.loss]
        self.noise = torch.Generator().manual_seed(s.seed + 1)     # z and GP mixing
        self.data_rng = torch.Generator().manual_seed(s.seed + 2)  # real batches
        self.step = 0           # G updates so far (a D update alone does not count)
        self.d_updates = 0
        # loss sums since the last frame: one in-place add per update, bounded memory
        self._loss_sum = {"D": torch.zeros(()), "G": torch.zeros(())}
        self._loss_count = {"D": 0, "G": 0}

    def set_learning_rates(self, lr_g: float, lr_d: float) -> None:
        """Change rates without a reset (the optimiser state is kept)."""
        self.settings.lr_g, self.settings.lr_d = lr_g, lr_d
        for opt, lr in ((self.opt_g, lr_g), (self.opt_d, lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr

    def train_step(self) -> None:
        """n_critic D updates, then one G update (one trainer step)."""
        for _ in range(self.settings.n_critic):
            self.d_step()
        self.g_step()

    def d_step(self) -> None:
        B = self.settings.batch_size
        real = self.dist.sample(B, self.data_rng)                          # (B, 2)
        z = torch.randn(B, Z_DIM, generator=self.noise)
        with torch.no_grad():
            fake = self.G(z)                                               # (B, 2)
        logits = self.D(torch.cat([real, fake]))                           # (2B,)
        loss = self.objective.d_real(logits[:B]) + self.objective.d_fake(logits[B:])
        if self.constraint == "gp":
            loss = loss + GP_WEIGHT * gradient_penalty(self.D, real, fake, None, self.noise)
        self._apply(loss, self.d_params, self.opt_d)
        self._record("D", loss)
        self.d_updates += 1

    def g_step(self) -> None:
        z = torch.randn(self.settings.batch_size, Z_DIM, generator=self.noise)
        loss = self.objective.g(self.D(self.G(z)))
        self._apply(loss, self.g_params, self.opt_g)
        self._record("G", loss)
        self.step += 1

    def _apply(self, loss: Tensor, params: list[Tensor], opt: torch.optim.Optimizer) -> None:
        # Gradients of this network's parameters only: the other network's weight
        # gradients are never computed, and nothing accumulates in their .grad.
        grads = list(torch.autograd.grad(loss, params))
        fast = self._fast.get(id(opt))
        if fast is not None:
            fast.step(grads)
            return
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()

    def _record(self, name: str, loss: Tensor) -> None:
        self._loss_sum[name].add_(loss.detach())
        self._loss_count[name] += 1

    def take_losses(self) -> dict[str, float | None]:
        """Mean D and G losses since the last call, then start again."""
        out: dict[str, float | None] = {}
        for name, total in self._loss_sum.items():
            n = self._loss_count[name]
            out[name] = float(total) / n if n else None
            total.zero_()
            self._loss_count[name] = 0
        return out
