"""pix2pix (Isola et al. 2017): paired x -> y. G(x) is a U-Net, D(y, x) a PatchGAN that
sees the input beside the output; G's loss is the GAN term + lambda * L1 to the target.

One step (as pytorch-CycleGAN-and-pix2pix's pix2pix_model): G translates the batch once,
  D  real pairs (b, a) against fake pairs (G(a), a), the objective halved as in the paper
  G  through the updated D, + l1_weight * |G(a) - b| (the same fakes: one G forward a step)
With gan_weight 0 (the L1-only baseline) no D is trained: G sees the same batches and draws
the same dropout as it would beside D, in about half the time.
The sample picture shows input | output | target for fixed held-out pairs.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from ganforge.domains import domain_for
from ganforge.errors import GanforgeError
from ganforge.games.base import Context, Game, Phase
from ganforge.games.generation import report_d_outputs
from ganforge.losses import LOSSES
from ganforge.models import TRANSLATORS, patchgan
from ganforge.training.batches import to_model_range

PICTURE_PAIRS = 16       # held-out pairs in the sample picture (two triples a row)
SUPPORTED_LOSSES = ("minimax", "non-saturating", "lsgan", "hinge")


def adversarial_scale(loss_name: str) -> float:
    """The reference's LSGAN terms are MSE; ours are 1/2 MSE (Mao et al.'s a=0, b=c=1 form):
    x2 puts them in the reference's units, so its weights (lambda = 10, 100) mean the same."""
    return 2.0 if loss_name == "lsgan" else 1.0


def check_translation_options(cfg, game: str, losses: tuple[str, ...] = SUPPORTED_LOSSES,
                              families: tuple[str, ...] = ("unet", "resnet-translator")) -> None:
    """Options of the generation game that a translation game has no use for: one line each."""
    if cfg.loss.name not in losses:
        raise GanforgeError(f"the {game} game trains with {', '.join(losses)}, not --loss {cfg.loss.name}")
    for wrong, what in ((cfg.model.conditional, "--conditional (it is conditioned on its input images)"),
                        (cfg.loss.r1_gamma > 0, "--r1-gamma"), (cfg.loss.n_critic != 1, "--n-critic"),
                        (bool(cfg.train.diffaugment), "--diffaugment"), (cfg.train.reuse_fakes, "train.reuse_fakes")):
        if wrong:
            raise GanforgeError(f"the {game} game does not take {what}")
    if cfg.model.family not in ("auto", *families):
        raise GanforgeError(f"the {game} game's generator is {' or '.join(families)}, not --model {cfg.model.family}")


def jitter_size(resolution):
    """pix2pix's jitter: images are stored 1.125x as big (256 -> 288) and cropped at random."""
    from ganforge.resolution import hparam, size
    hw = size(resolution)
    if hw is None:
        raise GanforgeError("--jitter needs a --resolution (images are stored bigger and cropped to it)")
    return hparam((round(hw[0] * 9 / 8), round(hw[1] * 9 / 8)))


def check_patch_layers(layers: int, hw: tuple[int, int]) -> None:
    """A PatchGAN halves the image `layers` times, then needs a 3x3 map for its last two convolutions."""
    if min(hw) < 3 * 2 ** layers:
        fits = max(1, (min(hw) // 3).bit_length() - 1)
        raise GanforgeError(f"a PatchGAN of {layers} layers needs images of at least {3 * 2 ** layers} px, these are "
                            f"{min(hw)} px: lower --d-layers to {fits}, or raise --resolution")


def holdout_count(requested: int, n: int) -> int:
    """-1 (auto): a tenth of the data, at least 1 and at most 200."""
    if requested == 0:
        raise GanforgeError("--holdout 0: the translation games picture and measure held-out examples; "
                            "hold out at least 1 (default: a tenth, at most 200)")
    return max(1, min(200, n // 10)) if requested < 0 else requested


def side_by_side(*columns: Tensor) -> Tensor:
    """Images of several columns (each (N, C, H, W), C 1 or 3) interleaved row by row, grey
    ones repeated to 3 channels when any column is in colour: (N * len(columns), C, H, W)."""
    c = max(col.shape[1] for col in columns)
    columns = [col.expand(-1, c, -1, -1) if col.shape[1] != c else col for col in columns]
    return torch.stack(columns, dim=1).flatten(0, 1)


class HeldOut:
    """What both translation games do with their held-out inputs `held_a` and targets `held_b`
    (on the device, at the networks' size): probe the collapse alarm. (CycleGAN's G goes a2b
    when no direction is given.)"""

    @torch.no_grad()
    def probe(self, G: nn.Module) -> Tensor:
        G.eval()
        x = G(self.held_a[:self.domain.probe_count])
        G.train()
        return x

    def real_probe(self) -> Tensor:
        return self.held_b[:self.domain.probe_count]


class TranslationGame(HeldOut, Game):
    name = "pix2pix"
    families = ("unet", "resnet-translator")
    g_graph_spans_phases = True  # the D step's fakes are the G step's: one G forward a step
    channels_last_on_cpu = False  # NHWC made these steps 2-27 % slower on CPU (benchmarks/translation_speed.py)

    def __init__(self, ctx: Context, data, models: tuple[nn.Module, nn.Module] | None = None):
        super().__init__(ctx, data)
        cfg = ctx.cfg
        check_translation_options(cfg, self.name)
        if data.scale != 1:
            raise GanforgeError(f"pairs '{data.recipe}' makes inputs smaller than their targets: train them with "
                                "--game superres (or use pairs downscale:N, the same size)")
        self.domain = domain_for(data)
        self.train_data, self.held = data.split(holdout_count(cfg.data.holdout, len(data)), seed=cfg.train.seed)
        self.models = models
        self.objective, _ = LOSSES[cfg.loss.name]
        self.scale = adversarial_scale(cfg.loss.name)
        self.adversarial = cfg.game.gan_weight > 0
        self._fake: Tensor | None = None
        self._last_logits: tuple[Tensor, Tensor] | None = None
        self.nrow = 6  # two input | output | target triples a row

    @staticmethod
    def load_data(cfg, cache_dir: Path | None = None):
        from ganforge.data.paired import load_paired
        d = cfg.data
        return load_paired(d.source, d.resolution, d.channels, pairs=d.pairs, cache_dir=cache_dir,
                           load_size=jitter_size(d.resolution) if d.jitter else None)

    def networks(self) -> tuple[nn.Module, nn.Module]:
        if self.models is not None:
            return self.models
        m, (cb, h, w), ca = self.ctx.cfg.model, self.resolution_shape(), self.data.a_shape[0]
        norm = "batch" if m.norm == "auto" else m.norm
        family = "unet" if m.family == "auto" else m.family
        kwargs = {"blocks": m.blocks or None} if family == "resnet-translator" else {}
        try:
            G = TRANSLATORS[family].Generator(ca, cb, [h, w] if h != w else h, width=m.width, norm=norm, **kwargs)
        except ValueError as e:
            raise GanforgeError(f"{e}; set --resolution") from None
        check_patch_layers(m.d_layers, (h, w))
        D = patchgan.Discriminator(cb, cond_channels=ca, width=m.width, layers=m.d_layers, norm=norm,
                                   spectral_norm=m.spectral_norm)
        return G, D

    def resolution_shape(self) -> tuple[int, int, int]:
        """(C, H, W) the networks work at: the crop when the data is stored bigger (jitter)."""
        from ganforge.resolution import size
        c, h, w = self.data.shape
        hw = size(self.ctx.cfg.data.resolution) or (h, w)
        return c, hw[0], hw[1]

    def bind(self, G, D, train_G, train_D) -> None:
        super().bind(G, D, train_G, train_D)
        from ganforge.data.paired import center_crop
        from ganforge.training.pair_batches import PairedBatches
        ctx, cfg = self.ctx, self.ctx.cfg
        _, h, w = self.resolution_shape()
        self.batches = PairedBatches(self.train_data, cfg.train.batch_size, ctx.device, ctx.data_rng,
                                     ctx.memory_format, shard=ctx.dist.shard, crop=(h, w), flip=cfg.data.flip)
        # the held-out pairs as the networks see them: centre crops, in [-1, 1], on the device
        self.held_a = to_model_range(center_crop(self.held.a, (h, w))).to(ctx.device)  # (N, Ca, h, w)
        self.held_b = to_model_range(center_crop(self.held.b, (h, w))).to(ctx.device)  # (N, Cb, h, w)

    def phases(self) -> list[Phase]:
        g = Phase("G", self.g_loss, "G")
        return [Phase("D", self.d_loss, "D"), g] if self.adversarial else [g]  # L1 only: no D

    # ----------------------------------------------------------------- the losses
    def d_loss(self) -> Tensor:
        report = self.ctx.stats.report
        a, b, _ = self.batches.next()                    # (B, Ca, H, W), (B, Cb, H, W) in [-1, 1]
        fake = self.train_G(a)                           # kept, with its graph, for the G step
        self._fake, self._pair = fake, (a, b)
        real_logits = self.train_D(b, a)                 # (B, 1, h, w) patch logits
        fake_logits = self.train_D(fake.detach(), a)
        loss_real, loss_fake = self.objective.d_real(real_logits), self.objective.d_fake(fake_logits)
        report("Loss/D/real", loss_real)
        report("Loss/D/fake", loss_fake)
        if self.ctx.detailed:
            self._last_logits = report_d_outputs(report, real_logits.detach(), fake_logits.detach())
        loss = 0.5 * self.scale * (loss_real + loss_fake)  # halved: D learns slower than G (the paper)
        report("Loss/D", loss)
        return loss

    def g_loss(self) -> Tensor:
        g = self.ctx.cfg.game
        if self._fake is None:                           # no D phase (the L1-only baseline)
            a, b, _ = self.batches.next()
            fake = self.train_G(a)
        else:
            fake, (a, b) = self._fake, self._pair
            self._fake = None
        l1 = (fake - b).abs().mean()
        self.ctx.stats.report("Loss/G/l1", l1)
        loss = g.l1_weight * l1
        if self.adversarial:
            adversarial = self.scale * self.objective.g(self.D(fake, a))  # D is not updated here: no DDP sync
            self.ctx.stats.report("Loss/G/gan", adversarial)
            loss = loss + g.gan_weight * adversarial
        self.ctx.stats.report("Loss/G", loss)
        return loss

    # ----------------------------------------------------------------- outputs
    @torch.no_grad()
    def save_samples(self, G_ema: nn.Module, path: Path) -> Tensor:
        a, b = self.held_a[:PICTURE_PAIRS], self.held_b[:PICTURE_PAIRS]
        picture = side_by_side(a, G_ema(a), b)
        self.domain.save_picture(picture, path, nrow=self.nrow)
        return picture

    def evaluation(self):
        return HeldOutEvaluation(self.held_a, self.held_b, self.ctx.cfg.train.eval_every)

    def data_info(self) -> dict:
        c, h, w = self.resolution_shape()
        return {"game": self.name, "source": self.ctx.cfg.data.source, "kind": "pairs", "shape": [c, h, w],
                "in_shape": [self.data.a_shape[0], h, w], "pairs": self.ctx.cfg.data.pairs or None,
                "class_names": None}

    def histograms(self) -> dict[str, Tensor]:
        if self._last_logits is None:
            return {}
        return {"D/real_logits": self._last_logits[0], "D/fake_logits": self._last_logits[1]}


class HeldOutEvaluation:
    """L1 and PSNR of G's outputs against the held-out targets, every `every` steps and at the
    end (when `every` > 0)."""

    def __init__(self, a: Tensor, b: Tensor, every: int, batch: int = 64):
        self.a, self.b, self.every, self.batch = a, b, every, batch

    def due(self, step: int, last: bool) -> bool:
        return self.every > 0 and (last or step % self.every == 0)

    def outputs(self, G: nn.Module) -> Tensor:
        """G of the held-out inputs, in batches; every rank computes the same (the held-out set
        is small): no gathering needed."""
        return torch.cat([G(self.a[i:i + self.batch]) for i in range(0, len(self.a), self.batch)])

    @torch.no_grad()
    def __call__(self, G: nn.Module, data_info: dict, dist) -> dict[str, float]:
        err = ((self.outputs(G).clamp(-1, 1) - self.b) / 2)          # in [0, 1] units
        mse = err.square().flatten(1).mean(1).clamp(min=1e-10)       # (N,)
        return {"l1": float(err.abs().mean() * 2), "psnr": float((-10 * mse.log10()).mean())}

    def alarms(self, health, step: int, result: dict[str, float]) -> list:
        return []
