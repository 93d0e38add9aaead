"""CycleGAN (Zhu et al. 2017): unpaired A <-> B. G holds both translators (G.a2b, G.b2a),
D both PatchGANs (D.a judges images of A, D.b of B); LSGAN objective, cycle consistency
|G.b2a(G.a2b(a)) - a| and back, weighted cycle_weight each way, an identity term
(identity_weight * cycle_weight: G.a2b(b) should be b) and a history pool of fakes per D.

One step (as pytorch-CycleGAN-and-pix2pix's cycle_gan_model):
  G  both directions and their cycles through the frozen D's, + cycle and identity terms
  D  real images against pooled fakes of the G step, each D's objective halved
The sample picture shows A | G_AB(A) | G_BA(G_AB(A)) and B | G_BA(B) | G_AB(G_BA(B)) rows.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from ganforge.domains import domain_for
from ganforge.errors import GanforgeError
from ganforge.games.base import Context, Game, Phase
from ganforge.games.pool import HistoryPool
from ganforge.games.translation import (HeldOut, HeldOutEvaluation, adversarial_scale, check_patch_layers,
                                        check_translation_options, holdout_count, jitter_size, side_by_side)
from ganforge.losses import LOSSES
from ganforge.models import patchgan, translator_pair
from ganforge.training.batches import to_model_range

PICTURE_IMAGES = 8  # held-out images of each side in the sample picture


class PatchGANPair(nn.Module):
    """The two discriminators behind one forward (DDP syncs gradients of calls through it)."""

    def __init__(self, a: nn.Module, b: nn.Module):
        super().__init__()
        self.a, self.b = a, b

    def forward(self, x: Tensor, side: str) -> Tensor:
        return self.a(x) if side == "a" else self.b(x)


class CycleGame(HeldOut, Game):
    name = "cycle"
    families = ("resnet-translator",)
    channels_last_on_cpu = False  # InstanceNorm and reflection pads copy NHWC maps back: slower on CPU

    @staticmethod
    def load_data(cfg, cache_dir: Path | None = None):
        from ganforge.data.unpaired import load_unpaired
        d = cfg.data
        if not d.source_b:
            raise GanforgeError("the cycle game translates between two domains: give --data A and --data-b B "
                                "(folders, or classes such as fashion-mnist:sneaker)")
        return load_unpaired(d.source, d.source_b, d.resolution, d.channels, cache_dir=cache_dir,
                             load_size=jitter_size(d.resolution) if d.jitter else None)

    def __init__(self, ctx: Context, data, models: tuple[nn.Module, nn.Module] | None = None):
        super().__init__(ctx, data)
        cfg = ctx.cfg
        check_translation_options(cfg, self.name)
        self.domain = domain_for(data)
        self.train_data, self.held = data.split(holdout_count(cfg.data.holdout, min(len(data.a), len(data.b))),
                                                seed=cfg.train.seed)
        self.models = models
        self.objective, _ = LOSSES[cfg.loss.name]
        self.scale = adversarial_scale(cfg.loss.name)
        same_channels = data.a_shape[0] == data.shape[0]  # identity needs G.a2b to take B's images as they are
        self.identity = cfg.game.identity_weight * cfg.game.cycle_weight if same_channels else 0.0
        self.pools = {side: HistoryPool(cfg.game.pool_size, ctx.noise, ctx.dist) for side in ("a", "b")}
        self._fakes: dict[str, Tensor] = {}
        self.nrow = 3

    def networks(self) -> tuple[nn.Module, nn.Module]:
        if self.models is not None:
            return self.models
        m = self.ctx.cfg.model
        ca, cb, (h, w) = self.data.a_shape[0], self.data.shape[0], self.resolution()
        norm = "instance" if m.norm == "auto" else m.norm
        try:
            G = translator_pair.Generator(ca, cb, [h, w] if h != w else h, width=m.width, blocks=m.blocks or None, norm=norm)
        except ValueError as e:
            raise GanforgeError(f"{e}; set --resolution") from None

        check_patch_layers(m.d_layers, (h, w))

        def critic(channels: int) -> nn.Module:
            return patchgan.Discriminator(channels, width=m.width, layers=m.d_layers, norm=norm, spectral_norm=m.spectral_norm)
        return G, PatchGANPair(critic(ca), critic(cb))

    def resolution(self) -> tuple[int, int]:
        from ganforge.resolution import size
        return size(self.ctx.cfg.data.resolution) or tuple(self.data.shape[1:])

    def bind(self, G, D, train_G, train_D) -> None:
        super().bind(G, D, train_G, train_D)
        from ganforge.data.paired import center_crop
        from ganforge.training.pair_batches import UnpairedBatches
        ctx, cfg = self.ctx, self.ctx.cfg
        hw = self.resolution()
        self.batches = UnpairedBatches(self.train_data, cfg.train.batch_size, ctx.device, ctx.data_rng,
                                       ctx.memory_format, shard=ctx.dist.shard, crop=hw, flip=cfg.data.flip)
        self.held_a = to_model_range(center_crop(self.held.a.x, hw)).to(ctx.device)  # (Na, Ca, h, w)
        self.held_b = to_model_range(center_crop(self.held.b.x, hw)).to(ctx.device)  # (Nb, Cb, h, w)

    def phases(self) -> list[Phase]:
        return [Phase("G", self.g_loss, "G"), Phase("D", self.d_loss, "D")]

    # ----------------------------------------------------------------- the losses
    def g_loss(self) -> Tensor:
        report, g = self.ctx.stats.report, self.ctx.cfg.game
        a, b = self.batches.next()                                   # (B, Ca, H, W), (B, Cb, H, W)
        G = self.train_G
        fake_b, fake_a = G(a, "a2b"), G(b, "b2a")
        cycle = (G(fake_b, "b2a") - a).abs().mean() + (G(fake_a, "a2b") - b).abs().mean()
        # D is not updated here: called directly, no DDP sync
        adversarial = self.scale * (self.objective.g(self.D.b(fake_b)) + self.objective.g(self.D.a(fake_a)))
        loss = adversarial + g.cycle_weight * cycle
        report("Loss/G/gan", adversarial)
        report("Loss/G/cycle", cycle)
        if self.identity:  # a translator given an image of its own target domain leaves it be
            identity = (G(b, "a2b") - b).abs().mean() + (G(a, "b2a") - a).abs().mean()
            report("Loss/G/identity", identity)
            loss = loss + self.identity * identity
        report("Loss/G", loss)
        self._fakes = {"a": fake_a.detach(), "b": fake_b.detach()}
        self._real = {"a": a, "b": b}
        return loss

    def d_loss(self) -> Tensor:
        report, loss = self.ctx.stats.report, 0.0
        for side in ("a", "b"):
            real_logits = self.train_D(self._real[side], side)
            fake_logits = self.train_D(self.pools[side].query(self._fakes[side]), side)
            loss_real, loss_fake = self.objective.d_real(real_logits), self.objective.d_fake(fake_logits)
            report(f"Loss/D_{side.upper()}/real", loss_real)
            report(f"Loss/D_{side.upper()}/fake", loss_fake)
            loss = loss + 0.5 * self.scale * (loss_real + loss_fake)  # halved: D learns slower than G
            if self.ctx.detailed:  # (LSGAN's outputs aim at 1 and 0: no sigmoid, no sign signal)
                report(f"D_{side.upper()}/real_output", real_logits.detach().mean())
                report(f"D_{side.upper()}/fake_output", fake_logits.detach().mean())
        self._fakes = {}
        report("Loss/D", loss)
        return loss

    # ----------------------------------------------------------------- state and outputs
    def state_dict(self) -> dict:
        return {"pools": {side: pool.state_dict() for side, pool in self.pools.items()}}

    def load_state_dict(self, state: dict) -> None:
        for side, pool in self.pools.items():
            if "pools" in state:
                pool.load_state_dict(state["pools"][side])

    @torch.no_grad()
    def save_samples(self, G_ema: nn.Module, path: Path) -> Tensor:
        a, b = self.held_a[:PICTURE_IMAGES], self.held_b[:PICTURE_IMAGES]
        ab, ba = G_ema(a, "a2b"), G_ema(b, "b2a")
        picture = torch.cat([side_by_side(a, ab, G_ema(ab, "b2a")), side_by_side(b, ba, G_ema(ba, "a2b"))])
        self.domain.save_picture(picture, path, nrow=self.nrow)
        return picture

    def evaluation(self):
        return CycleEvaluation(self.held_a, self.held_b, self.ctx.cfg.train.eval_every)

    def data_info(self) -> dict:
        h, w = self.resolution()
        d = self.ctx.cfg.data
        return {"game": self.name, "source": d.source, "source_b": d.source_b, "kind": "unpaired",
                "shape": [self.data.shape[0], h, w], "in_shape": [self.data.a_shape[0], h, w], "class_names": None}


class CycleEvaluation(HeldOutEvaluation):
    """Cycle-consistency L1 on the held-out images of each side (every `every` steps and at
    the end, when `every` > 0)."""

    @torch.no_grad()
    def __call__(self, G: nn.Module, data_info: dict, dist) -> dict[str, float]:
        def cycle(x: Tensor, there: str, back: str) -> float:
            err = [(G(G(x[i:i + self.batch], there), back) - x[i:i + self.batch]).abs().flatten(1).mean(1)
                   for i in range(0, len(x), self.batch)]
            return float(torch.cat(err).mean())
        return {"cycle_l1_a": cycle(self.a, "a2b", "b2a"), "cycle_l1_b": cycle(self.b, "b2a", "a2b")}
