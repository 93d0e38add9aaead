"""Super-resolution (SRGAN, Ledig et al. 2017; ESRGAN, Wang et al. 2018): the paired game
with inputs `scale` times smaller than their targets (pairs sr:N, ganforge.data.superres).

G is SRResNet (models/srresnet.py), D a PatchGAN that sees the image alone (no input beside
it: ESRGAN's D judges realism, not agreement). G's loss is
    l1_weight * |G(x) - y|  +  feature_weight * |phi(G(x)) - phi(y)|  +  gan_weight * L_Ra
with phi the standard Inception's early layers (losses/perceptual.py) and L_Ra ESRGAN's
relativistic average GAN: D estimates whether a real patch is more realistic than the
average fake, D_Ra(r, f) = sigmoid(C(r) - E[C(f)]), and G is trained on both terms.
The PSNR-oriented model (SRResNet) is this game with gan_weight = feature_weight = 0: then
D is not trained at all. The GAN stage starts from it (--init-from RUN), as both papers do.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.domains import domain_for
from ganforge.errors import GanforgeError
from ganforge.games.base import Context, Game, Phase
from ganforge.games.generation import report_d_outputs
from ganforge.games.translation import (
    PICTURE_PAIRS,
    TranslationGame,
    check_patch_layers,
    check_translation_options,
    side_by_side,
)
from ganforge.models import patchgan, srresnet
from ganforge.training.batches import to_model_range


def relativistic(logits: Tensor, others: Tensor, real: bool) -> Tensor:
    """-log sigmoid(C(x) - E[C(others)]) for a side that should look real, -log(1 - ...) for one that
    should not; the other side's mean is a constant here (ESRGAN, as BasicSR computes it)."""
    gap = logits - others.detach().mean()
    return F.softplus(-gap).mean() if real else F.softplus(gap).mean()


class SuperResGame(TranslationGame):
    name = "superres"
    families = ("srresnet",)

    def __init__(self, ctx: Context, data, models: tuple[nn.Module, nn.Module] | None = None):
        Game.__init__(self, ctx, data)
        cfg = ctx.cfg
        check_translation_options(cfg, self.name, losses=("non-saturating",), families=self.families)
        if getattr(data, "scale", 1) == 1:
            raise GanforgeError("the superres game trains on inputs smaller than their targets: --pairs sr:N "
                                "(N = 2, 3, 4) with --data photos or a folder of images")
        self.domain = domain_for(data)
        self.train_data, self.held = data.split(0)  # the source fixed which photos are held out
        self.models = models
        g = cfg.game
        self.adversarial = g.gan_weight > 0
        self.feature = None
        if g.feature_weight > 0:
            from ganforge.losses.perceptual import InceptionFeatureLoss
            self.feature = InceptionFeatureLoss(device=ctx.device)
        self._fake: Tensor | None = None
        self._last_logits: tuple[Tensor, Tensor] | None = None
        self.nrow = 8  # two input | bicubic | output | target quadruples a row

    @staticmethod
    def load_data(cfg, cache_dir=None):
        from ganforge.data.paired import load_paired
        d = cfg.data
        if d.jitter:
            raise GanforgeError("the superres game does not take --jitter (it always crops random patches, "
                                "from tiles 1.5x the --resolution)")
        return load_paired(d.source, d.resolution, d.channels, pairs=d.pairs, holdout=d.holdout, seed=cfg.train.seed)

    def networks(self) -> tuple[nn.Module, nn.Module]:
        if self.models is not None:
            return self.models
        m, (c, h, w) = self.ctx.cfg.model, self.resolution_shape()
        G = srresnet.Generator(c, self.data.scale, width=m.width, blocks=m.blocks or 6)
        check_patch_layers(m.d_layers, (h, w))
        norm = "batch" if m.norm == "auto" else m.norm
        D = patchgan.Discriminator(c, width=m.width, layers=m.d_layers, norm=norm, spectral_norm=m.spectral_norm)
        return G, D

    def bind(self, G, D, train_G, train_D) -> None:
        Game.bind(self, G, D, train_G, train_D)
        from ganforge.data.paired import center_crop
        from ganforge.training.pair_batches import PairedBatches
        ctx, cfg, s = self.ctx, self.ctx.cfg, self.data.scale
        _, h, w = self.resolution_shape()
        self.batches = PairedBatches(self.train_data, cfg.train.batch_size, ctx.device, ctx.data_rng,
                                     ctx.memory_format, shard=ctx.dist.shard, crop=(h, w), flip=cfg.data.flip)
        # the held-out photos' tiles as the networks see them: centre crops, in [-1, 1], on the device
        self.held_a = to_model_range(center_crop(self.held.a, (h // s, w // s))).to(ctx.device)  # (N, C, h/s, w/s)
        self.held_b = to_model_range(center_crop(self.held.b, (h, w))).to(ctx.device)            # (N, C, h, w)

    def phases(self) -> list[Phase]:
        g = Phase("G", self.g_loss, "G")
        return [Phase("D", self.d_loss, "D"), g] if self.adversarial else [g]  # L1 / feature only: no D

    # ----------------------------------------------------------------- the losses
    def d_loss(self) -> Tensor:
        report = self.ctx.stats.report
        lo, hi, _ = self.batches.next()                  # (B, C, h/s, w/s), (B, C, h, w) in [-1, 1]
        fake = self.train_G(lo)                          # kept, with its graph, for the G step
        self._fake, self._pair = fake, (lo, hi)
        real_logits = self.train_D(hi)                   # (B, 1, h', w') patch logits
        fake_logits = self.train_D(fake.detach())
        loss_real = relativistic(real_logits, fake_logits, real=True)
        loss_fake = relativistic(fake_logits, real_logits, real=False)
        report("Loss/D/real", loss_real)
        report("Loss/D/fake", loss_fake)
        if self.ctx.detailed:
            self._last_logits = report_d_outputs(report, real_logits.detach(), fake_logits.detach())
        loss = 0.5 * (loss_real + loss_fake)
        report("Loss/D", loss)
        return loss

    def g_loss(self) -> Tensor:
        g, report = self.ctx.cfg.game, self.ctx.stats.report
        if self._fake is None:                           # no D phase (the PSNR-oriented model)
            lo, hi, _ = self.batches.next()
            fake = self.train_G(lo)
        else:
            fake, (lo, hi) = self._fake, self._pair
            self._fake = None
        l1 = (fake - hi).abs().mean()
        report("Loss/G/l1", l1)
        loss = g.l1_weight * l1
        if self.feature is not None:
            feature = self.feature(fake, hi)
            report("Loss/G/feature", feature)
            loss = loss + g.feature_weight * feature
        if self.adversarial:
            real_logits, fake_logits = self.D(hi), self.D(fake)  # D is not updated here: no DDP sync
            adversarial = 0.5 * (relativistic(real_logits, fake_logits, real=False)
                                 + relativistic(fake_logits, real_logits, real=True))
            report("Loss/G/gan", adversarial)
            loss = loss + g.gan_weight * adversarial
        report("Loss/G", loss)
        return loss

    # ----------------------------------------------------------------- outputs
    @torch.no_grad()
    def save_samples(self, G_ema: nn.Module, path) -> Tensor:
        lo, hi = self.held_a[:PICTURE_PAIRS], self.held_b[:PICTURE_PAIRS]
        s = self.data.scale
        shown = F.interpolate(lo, scale_factor=s, mode="nearest")            # the input, its pixels visible
        bicubic = F.interpolate(lo, scale_factor=s, mode="bicubic", align_corners=False).clamp(-1, 1)
        picture = side_by_side(shown, bicubic, G_ema(lo).clamp(-1, 1), hi)
        self.domain.save_picture(picture, path, nrow=self.nrow)
        return picture

    def data_info(self) -> dict:
        c, h, w = self.resolution_shape()
        s = self.data.scale
        return {**super().data_info(), "in_shape": [c, h // s, w // s], "scale": s}
