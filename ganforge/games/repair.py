"""Repair (inpainting; context encoders, Pathak et al. 2016; DeepFill, Yu et al. 2018/2019):
a generator fills holes in images, seeing the image with its holes greyed out and the mask.

Each training image gets a hole drawn afresh every step from the trainer's data generator
(ganforge.data.masks: a random box or DeepFill-style free-form strokes, half and half). G is
the inpainter (models/inpainter.py); what is judged and returned is the composite, G's
output in the hole and the real pixels elsewhere. G's loss is
    hole_weight * L1 on the hole  +  l1_weight * L1 on the rest  +  gan_weight * L_adv
(6 : 1 as the partial-convolution paper weighs them, Liu et al. 2018; each L1 a mean over its
own pixels), L_adv from DeepFill v2's SN-PatchGAN: a spectral-normalised PatchGAN that sees
the composite beside the mask, under the hinge loss. gan_weight 0 is the L1-only baseline
(then D is not trained at all), as in benchmarks/inpaint.py.

Data: any image dataset at one size (Fashion-MNIST, digits, a folder fitted to --resolution),
or ``--pairs patches``: random patches of photos at their own size, whole photos held out.
The sample picture shows holed input | repaired | original for fixed held-out images.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganforge.data import masks
from ganforge.domains import domain_for
from ganforge.errors import GanforgeError
from ganforge.games.base import Context, Game, Phase
from ganforge.games.generation import report_d_outputs
from ganforge.games.translation import (
    PICTURE_PAIRS,
    HeldOutEvaluation,
    TranslationGame,
    adversarial_scale,
    check_patch_layers,
    check_translation_options,
    holdout_count,
    side_by_side,
)
from ganforge.losses import LOSSES
from ganforge.models import inpainter, patchgan
from ganforge.models.inpainter import holed_input
from ganforge.training.batches import to_model_range


def composite(fake: Tensor, real: Tensor, mask: Tensor) -> Tensor:
    """G's pixels in the hole (mask 1), the real ones elsewhere: (B, C, H, W)."""
    return fake * mask + real * (1 - mask)


def masked_l1(fake: Tensor, real: Tensor, weight: Tensor) -> Tensor:
    """Mean |fake - real| over the pixels `weight` (B, 1, H, W) selects (0 when it selects none)."""
    return ((fake - real).abs() * weight).sum() / (weight.sum() * fake.shape[1]).clamp(min=1)


def held_masks(n: int, h: int, w: int) -> Tensor:
    """The held-out images' fixed holes: the first half centre squares, the rest strokes (seed 0)."""
    half = n // 2
    return torch.cat([masks.fixed("centre", half, h, w), masks.fixed("strokes", n - half, h, w, seed=0)])


class RepairGame(TranslationGame):
    name = "repair"
    families = ("inpainter",)

    def __init__(self, ctx: Context, data, models: tuple[nn.Module, nn.Module] | None = None):
        Game.__init__(self, ctx, data)
        cfg = ctx.cfg
        check_translation_options(cfg, self.name, losses=("hinge", "non-saturating", "lsgan"), families=self.families)
        self.domain = domain_for(data)
        self.train_data, self.held = data.split(holdout_count(cfg.data.holdout, len(data)), seed=cfg.train.seed)
        self.models = models
        self.objective, _ = LOSSES[cfg.loss.name]
        self.scale = adversarial_scale(cfg.loss.name)
        self.adversarial = cfg.game.gan_weight > 0
        self._fake: Tensor | None = None
        self._last_logits: tuple[Tensor, Tensor] | None = None
        self.nrow = 6  # two holed | repaired | original triples a row

    @staticmethod
    def load_data(cfg, cache_dir=None):
        from ganforge.data import load_data
        from ganforge.data.paired import PairedDataset
        from ganforge.resolution import size
        d = cfg.data
        if d.jitter:
            raise GanforgeError("the repair game does not take --jitter (--pairs patches crops photos at random)")
        if d.pairs == "patches":
            from ganforge.data.patches import load_patches
            return load_patches(d.source, size(d.resolution), d.channels, d.holdout, cfg.train.seed)
        if d.pairs:
            raise GanforgeError(f"the repair game draws its own holes: --pairs {d.pairs!r} is not for it (expected "
                                "none: whole images at --resolution, or patches: random crops of photos at their "
                                "own size)")
        data = load_data(d.source, d.resolution, d.channels, cache_dir=cache_dir)
        if data.kind != "images":
            raise GanforgeError(f"the repair game fills holes in images, and {d.source} is {data.kind}")
        return PairedDataset(data.name, data.x, data.x, data.y, data.class_names, recipe="holes")

    def networks(self) -> tuple[nn.Module, nn.Module]:
        if self.models is not None:
            return self.models
        m, (c, h, w) = self.ctx.cfg.model, self.resolution_shape()
        if h % inpainter.Generator.multiple or w % inpainter.Generator.multiple:
            raise GanforgeError(f"the inpainter needs a --resolution that is a multiple of "
                                f"{inpainter.Generator.multiple} px, got {w}x{h}")
        G = inpainter.Generator(c, [h, w] if h != w else h, width=m.width, blocks=m.blocks or 4)
        check_patch_layers(m.d_layers, (h, w))
        norm = "none" if m.norm == "auto" else m.norm
        D = patchgan.Discriminator(c, cond_channels=1, width=m.width, layers=m.d_layers, norm=norm,
                                   spectral_norm=m.spectral_norm)
        return G, D

    def bind(self, G, D, train_G, train_D) -> None:
        Game.bind(self, G, D, train_G, train_D)
        from ganforge.data.paired import center_crop
        from ganforge.training.pair_batches import PairedBatches
        ctx, cfg = self.ctx, self.ctx.cfg
        _, h, w = self.resolution_shape()
        self.hw = (h, w)
        self.batches = PairedBatches(self.train_data, cfg.train.batch_size, ctx.device, ctx.data_rng,
                                     ctx.memory_format, shard=ctx.dist.shard, crop=(h, w), flip=cfg.data.flip)
        # the held-out images with their fixed holes, as the networks see them, on the device
        self.held_b = to_model_range(center_crop(self.held.b, (h, w))).to(ctx.device)       # (N, C, h, w)
        self.held_m = held_masks(len(self.held_b), h, w)[:, None].float().to(ctx.device)    # (N, 1, h, w)
        self.held_a = holed_input(self.held_b, self.held_m)                                # (N, C + 1, h, w)

    def _batch(self) -> tuple[Tensor, Tensor]:
        """Images (B, C, h, w) in [-1, 1] and their holes (B, 1, h, w), drawn for the global batch
        from the data generator, then this rank's share."""
        _, x, _ = self.batches.next()
        mask = masks.draw(self.ctx.cfg.train.batch_size, *self.hw, self.ctx.data_rng)
        mask = self.ctx.dist.shard(mask)[:, None].to(self.ctx.device, torch.float32)
        return x, mask

    def phases(self) -> list[Phase]:
        g = Phase("G", self.g_loss, "G")
        return [Phase("D", self.d_loss, "D"), g] if self.adversarial else [g]  # L1 only: no D

    # ----------------------------------------------------------------- the losses
    def d_loss(self) -> Tensor:
        report = self.ctx.stats.report
        x, mask = self._batch()
        fake = self.train_G(holed_input(x, mask))        # kept, with its graph, for the G step
        self._fake, self._pair = fake, (x, mask)
        real_logits = self.train_D(x, mask)              # (B, 1, h', w') patch logits, the hole beside
        fake_logits = self.train_D(composite(fake.detach(), x, mask), mask)
        loss_real, loss_fake = self.objective.d_real(real_logits), self.objective.d_fake(fake_logits)
        report("Loss/D/real", loss_real)
        report("Loss/D/fake", loss_fake)
        if self.ctx.detailed:
            self._last_logits = report_d_outputs(report, real_logits.detach(), fake_logits.detach())
        loss = 0.5 * self.scale * (loss_real + loss_fake)
        report("Loss/D", loss)
        return loss

    def g_loss(self) -> Tensor:
        g, report = self.ctx.cfg.game, self.ctx.stats.report
        if self._fake is None:                           # no D phase (the L1-only baseline)
            x, mask = self._batch()
            fake = self.train_G(holed_input(x, mask))
        else:
            fake, (x, mask) = self._fake, self._pair
            self._fake = None
        hole, rest = masked_l1(fake, x, mask), masked_l1(fake, x, 1 - mask)
        report("Loss/G/hole", hole)
        report("Loss/G/rest", rest)
        loss = g.hole_weight * hole + g.l1_weight * rest
        if self.adversarial:
            adversarial = self.scale * self.objective.g(self.D(composite(fake, x, mask), mask))  # no DDP sync
            report("Loss/G/gan", adversarial)
            loss = loss + g.gan_weight * adversarial
        report("Loss/G", loss)
        return loss

    # ----------------------------------------------------------------- outputs
    @torch.no_grad()
    def save_samples(self, G_ema: nn.Module, path) -> Tensor:
        a, b, m = self.held_a[:PICTURE_PAIRS], self.held_b[:PICTURE_PAIRS], self.held_m[:PICTURE_PAIRS]
        picture = side_by_side(b * (1 - m), composite(G_ema(a), b, m), b)
        self.domain.save_picture(picture, path, nrow=self.nrow)
        return picture

    def evaluation(self):
        return RepairEvaluation(self.held_a, self.held_b, self.held_m, self.ctx.cfg.train.eval_every)

    def data_info(self) -> dict:
        c, h, w = self.resolution_shape()
        names = getattr(self.data, "class_names", None)
        return {**super().data_info(), "in_shape": [c + 1, h, w], "class_names": names}


class RepairEvaluation(HeldOutEvaluation):
    """The held-out images' composites against the originals: L1 and PSNR on the hole and on
    the whole image, every `every` steps and at the end (when `every` > 0)."""

    def __init__(self, a: Tensor, b: Tensor, m: Tensor, every: int, batch: int = 64):
        super().__init__(a, b, every, batch)
        self.m = m

    @torch.no_grad()
    def __call__(self, G: nn.Module, data_info: dict, dist) -> dict[str, float]:
        err = (composite(self.outputs(G).clamp(-1, 1), self.b, self.m) - self.b) / 2    # in [0, 1] units
        hole_px = (self.m.flatten(1).sum(1) * err.shape[1]).clamp(min=1)   # (N,)
        hole_mse = (err.square() * self.m).flatten(1).sum(1) / hole_px
        mse = err.square().flatten(1).mean(1)
        psnr = lambda e: float((-10 * e.clamp(min=1e-10).log10()).mean())  # noqa: E731
        return {"l1_hole": float(masked_l1(err, 0 * err, self.m) * 2), "psnr_hole": psnr(hole_mse), "psnr": psnr(mse)}
