"""The generation game: noise z (and a class label c) through G(z, c), judged by D(x, c).

One step = the phases in order, each `Phase.updates_at(step)` times:
  D      n_critic discriminator updates on real and fresh fake batches (+ WGAN-GP, clipping)
  D_reg  lazy R1 on real data once per r1_interval D updates (when r1_gamma > 0)
  G      one generator update through the (frozen) discriminator
Every objective, WGAN-GP, R1, ProGAN's drift term, ACGAN, mode seeking, feature matching,
DiffAugment and reuse_fakes live here. For every kind of data alike: what differs is the domain's
(ganforge/domains/).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.diffaugment import DiffAugment
from ganforge.domains import domain_for
from ganforge.errors import GanforgeError
from ganforge.games.base import Context, Game, Phase
from ganforge.losses import LOSSES, clip_weights, gradient_penalty, r1_penalty
from ganforge.losses.diversity import mode_seeking
from ganforge.models import FAMILIES, build_models

PER_CLASS = 8  # a conditional model's sample picture: one row of 8 per class


class GenerationGame(Game):
    name = "generation"
    families = tuple(FAMILIES)

    def __init__(self, ctx: Context, data, models: tuple[nn.Module, nn.Module] | None = None):
        super().__init__(ctx, data)
        cfg = ctx.cfg
        self.domain = domain_for(data)
        trained_by = getattr(self.domain, "game", self.name)  # a domain that needs its own game (video: two D's)
        if trained_by != self.name:
            raise GanforgeError(f"data '{cfg.data.source}' is {data.kind}: train it with --game {trained_by}, "
                                f"not {self.name}")
        if cfg.train.diffaugment and data.kind != "images":
            raise GanforgeError(f"--diffaugment augments images; data '{cfg.data.source}' is {data.kind}")
        self.models = models
        self.num_classes = data.num_classes if cfg.model.conditional else 0
        self.acgan = bool(self.num_classes) and cfg.model.conditioning == "acgan"
        self.objective, self.constraint = LOSSES[cfg.loss.name]
        self.g_graph_spans_phases = cfg.train.reuse_fakes
        self.d_double_backward = self.constraint == "gp" or cfg.loss.r1_gamma > 0
        self._fakes: tuple[Tensor, Tensor | None] | None = None  # the D step's fakes, for the G step
        self._last_logits: tuple[Tensor, Tensor] | None = None
        self.nrow = PER_CLASS if self.num_classes else None  # the sample picture's columns

    def networks(self) -> tuple[nn.Module, nn.Module]:
        cfg, data = self.ctx.cfg, self.data
        return self.models or build_models(cfg, data.kind, tuple(data.shape), data.num_classes, self.domain.scale())

    def training_forms(self, G: nn.Module, D: nn.Module) -> tuple[nn.Module, nn.Module]:
        return G, Discriminating(D)  # ACGAN's D through one forward for both of its outputs

    def bind(self, G, D, train_G, train_D) -> None:
        super().bind(G, D, train_G, train_D)
        ctx, cfg = self.ctx, self.ctx.cfg
        from ganforge.training.batches import make_batches
        self.batches = make_batches(self.data, cfg.train.batch_size, ctx.device, ctx.data_rng,
                                    ctx.memory_format, shard=ctx.dist.shard)
        # DiffAugment: D sees every image, real or fake, through the same random augmentations
        self.augment = DiffAugment(cfg.train.diffaugment, ctx.augment_rng) if cfg.train.diffaugment else None
        self.fixed_z, self.fixed_c = self._fixed_latents()
        self.local_batch = ctx.dist.local_batch(cfg.train.batch_size)  # this rank's share of a G step's batch
        self.critic = getattr(D, "critic", D)  # (the rewarded game's D side holds D and R)
        if cfg.loss.feature_matching and not hasattr(self.critic, "features"):
            raise GanforgeError(f"--feature-matching needs a D that exposes its features (molgan); "
                                f"{type(self.critic).__module__.split('.')[-1]}'s D does not")
        if cfg.train.export_discriminator:  # your own D class cannot be rebuilt from a config: say so now
            from ganforge.modeling import discriminator_family
            discriminator_family(D)

    def phases(self) -> list[Phase]:
        loss = self.ctx.cfg.loss
        clip = (lambda: clip_weights(self.D, loss.clip)) if self.constraint == "clip" else None
        phases = [Phase("D", self.d_loss, "D", repeats=loss.n_critic, after=clip)]
        if loss.r1_gamma > 0:
            phases.append(Phase("D_reg", self.r1_loss, "D", interval=loss.r1_interval, of=loss.n_critic))
        phases.append(Phase("G", self.g_loss, "G"))
        return phases

    # ----------------------------------------------------------------- the losses
    def d_loss(self) -> Tensor:
        report = self.ctx.stats.report
        real, c = self.batches.next()                # (B, ...) in [-1, 1], labels (B,) or None
        z, _ = self.latents(real.shape[0])
        if self.ctx.cfg.train.reuse_fakes:           # keep G's graph: the G step reuses these
            fake = self.train_G(z, c)
            self._fakes = (fake, c, z)
            fake = fake.detach()
        else:
            with torch.no_grad():
                fake = self.train_G(z, c)            # fakes of the real batch's classes
        self.judged = (real, fake)                   # (games built on this one: the rewarded game)
        real_logits, real_aux = self.discriminate(real, c)
        fake_logits, fake_aux = self.discriminate(fake, c)
        loss_real, loss_fake = self.objective.d_real(real_logits), self.objective.d_fake(fake_logits)
        report("Loss/D/real", loss_real)
        report("Loss/D/fake", loss_fake)
        if self.ctx.detailed:
            self._last_logits = report_d_outputs(report, real_logits.detach(), fake_logits.detach())
        loss = loss_real + loss_fake
        if self.acgan:  # D learns to tell the classes of real and fake images apart
            aux = real_aux + fake_aux
            report("Loss/D/aux", aux)
            loss = loss + self.ctx.cfg.loss.aux_weight * aux
        if self.constraint == "gp":
            alpha = self.ctx.global_draw(torch.rand, real.shape[0], *[1] * (real.dim() - 1))  # mixing weights
            with torch.autocast(self.ctx.device.type, enabled=False):  # penalties in fp32
                gp = gradient_penalty(self.d_seen, real.float(), fake.float(), c, alpha=alpha)
            report("Loss/D/gp", gp)
            loss = loss + self.ctx.cfg.loss.gp_weight * gp
        if self.ctx.cfg.loss.drift:  # ProGAN's drift term: keeps a critic's outputs near 0 (WGAN fixes no offset)
            drift = real_logits.float().pow(2).mean()
            report("Loss/D/drift", drift)
            loss = loss + self.ctx.cfg.loss.drift * drift
        report("Loss/D", loss)
        return loss

    def r1_loss(self) -> Tensor:
        real, c = self.batches.next()
        outputs: list[Tensor] = []

        def d(x: Tensor, c: Tensor | None) -> Tensor:  # D as the penalty sees it, keeping all it says
            out = self.train_D(x if self.augment is None else self.augment(x), c, with_classes=self.acgan)
            outputs.extend(o for o in (out if self.acgan else (out,)) if o is not None)
            return outputs[0]
        with torch.autocast(self.ctx.device.type, enabled=False):
            r1 = r1_penalty(d, real.float(), c)
        self.ctx.stats.report("Loss/D/r1", r1)
        # the penalty has no gradient for some of D's weights (its last bias, ACGAN's class
        # head); + 0 * outputs gives them a zero one, as DDP needs one from every weight
        untouched = sum(o.sum() for o in outputs) * 0  # (stylegan2-ada does the same)
        # lazy regularisation: applied once per k D updates, so weighted k times: on average
        # the same as R1 on every D update (Karras et al. 2020)
        loss = self.ctx.cfg.loss
        return 0.5 * loss.r1_gamma * loss.r1_interval * r1 + untouched

    def g_loss(self) -> Tensor:
        if self._fakes is not None:  # the D step's fakes, through the updated D: one G forward a step
            fake, c, z = self._fakes
            self._fakes = None
        else:
            z, c = self.latents(self.local_batch)
            fake = self.train_G(z, c)
        logits, aux = self.discriminate(fake, c, D=self.D)  # D is not updated here: no DDP sync
        loss = self.objective.g(logits)
        self.ctx.stats.report("Loss/G", loss)
        if self.acgan:  # G makes images D classifies as the asked-for class
            self.ctx.stats.report("Loss/G/aux", aux)
            loss = loss + self.ctx.cfg.loss.aux_weight * aux
        return loss + self.mode_seeking(fake, z) + self.feature_matching(fake)

    def feature_matching(self, fake: Tensor) -> Tensor | float:
        """Salimans et al.'s feature matching, weighted (--feature-matching W; 0: none): the
        squared distance between the mean D features of a real batch and of G's."""
        weight = self.ctx.cfg.loss.feature_matching
        if not weight:
            return 0.0
        real, _ = self.batches.next()
        with torch.no_grad():  # the target: no graph through D for the real batch
            target = self.critic.features(real).mean(0)
        fm = (target - self.critic.features(fake).mean(0)).pow(2).sum()
        self.ctx.stats.report("Loss/G/feature_matching", fm)
        return weight * fm

    def mode_seeking(self, fake: Tensor, z: Tensor) -> Tensor | float:
        """MSGAN's term, weighted (--mode-seeking W; 0: none)."""
        weight = self.ctx.cfg.loss.mode_seeking
        if not weight:
            return 0.0
        ms = mode_seeking(fake, z)
        self.ctx.stats.report("Loss/G/mode_seeking", ms)
        return weight * ms

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

    def d_seen(self, x: Tensor, c: Tensor | None) -> Tensor:
        """D as the losses see it (through DiffAugment): what gradient penalties differentiate."""
        return self.train_D(x if self.augment is None else self.augment(x), c)

    def latents(self, n: int) -> tuple[Tensor, Tensor | None]:
        """z ~ N(0, I) (n, z_dim) and uniform class labels (n,) for conditional models."""
        z = self.ctx.global_draw(torch.randn, n, self.G.z_dim)
        if not self.num_classes:
            return z, None
        return z, self.ctx.global_draw(lambda *s, **kw: torch.randint(self.num_classes, s, **kw), n)

    # ----------------------------------------------------------------- outputs
    def _fixed_latents(self) -> tuple[Tensor, Tensor | None]:
        """The z every sample picture uses, so pictures across training are comparable;
        conditional images get one row of 8 per class."""
        images = self.domain.images
        n = PER_CLASS * self.num_classes if self.num_classes and images else self.domain.picture_count
        g = torch.Generator().manual_seed(self.ctx.cfg.train.seed + 3)
        z = torch.randn(n, self.G.z_dim, generator=g).to(self.ctx.device)
        if not self.num_classes:
            return z, None
        index = torch.arange(n, device=self.ctx.device)
        return z, index // PER_CLASS if images else index % self.num_classes

    @torch.no_grad()
    def save_samples(self, G_ema: nn.Module, path: Path) -> Tensor:
        samples = G_ema(self.fixed_z, self.fixed_c)
        critic = self.D if not self.num_classes else None  # the decision surface, for 2-D points
        return self.domain.save_picture(samples, path, nrow=self.nrow, critic=critic)

    @torch.no_grad()
    def probe(self, G: nn.Module) -> Tensor:
        """G's current samples of the first fixed z (eval mode: no BatchNorm statistics move)."""
        n = self.domain.probe_count
        G.eval()
        x = G(self.fixed_z[:n], None if self.fixed_c is None else self.fixed_c[:n])
        G.train()
        return x

    def real_probe(self) -> Tensor:
        return self.domain.real_sample(self.domain.probe_count, torch.Generator().manual_seed(0))

    def evaluation(self):
        return self.domain.evaluation(self.ctx.cfg, self.ctx.run_dir)

    def data_info(self) -> dict:
        d = self.data
        return {"source": self.ctx.cfg.data.source, "kind": d.kind, "shape": list(d.shape),
                "class_names": getattr(d, "class_names", None) if self.num_classes else None, **self.domain.info()}

    def export(self, G_ema: nn.Module, out_dir: Path) -> Path:
        """The EMA generator, and with train.export_discriminator the trained D beside it
        (for DRS / MH sampling; the samplers calibrate it against the EMA generator's samples)."""
        from ganforge import modeling
        D = self.D if self.ctx.cfg.train.export_discriminator else None
        return modeling.save_pretrained(G_ema, out_dir, self.data_info(), discriminator=D)

    def histograms(self) -> dict[str, Tensor]:
        if self._last_logits is None:
            return {}
        return {"D/real_logits": self._last_logits[0], "D/fake_logits": self._last_logits[1]}


def report_d_outputs(report, real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor]:
    """What D says about the batch: logits, probabilities, accuracies and stylegan2-ada's
    overfitting signal r_t = E[sign D(x_real)]. Returns the logits, for histograms."""
    report("D/real_logit", real.mean())
    report("D/fake_logit", fake.mean())
    report("D/D(x)", torch.sigmoid(real).mean())
    report("D/D(G(z))", torch.sigmoid(fake).mean())
    report("D/real_acc", (real > 0).float().mean())
    report("D/fake_acc", (fake < 0).float().mean())
    report("D/sign_real", real.sign().mean())
    return real, fake


class Discriminating(nn.Module):
    """D's two entry points behind one forward: DDP syncs gradients only of calls that go
    through its forward, and ACGAN needs D.forward_with_classes."""

    def __init__(self, D: nn.Module):
        super().__init__()
        self.D = D

    def forward(self, x: Tensor, c: Tensor | None = None, with_classes: bool = False):
        return self.D.forward_with_classes(x, c) if with_classes else self.D(x, c)
