"""Text games: token sequences from a recurrent G(z) (ganforge/models/seqgan.py), judged by a
CNN D. Text is discrete: a sampled token has no gradient, so each game gets G's learning
signal its own way.

  mle      maximum likelihood alone (teacher forcing): the language-model baseline row
  seqgan   MLE pre-training, D pre-training, then policy gradient with Monte-Carlo roll-outs
           rewarded by D (games/seqgan.py)
  gumbel   MLE pre-training, then a Gumbel-softmax GAN in RelGAN's style (games/gumbel.py)

Pre-training then the adversarial game are stages of one run: each phase has its steps
[start, stop) (games/base.py Phase), so the loop, checkpoints and exact resume are the same
as for every game, and `--game mle` trains the pre-training stage alone as its own run.
(One process: the text games compute G's likelihood outside G's forward, which DDP would not sync.)
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.domains import domain_for
from ganforge.errors import GanforgeError
from ganforge.games.base import Context, Game, Phase
from ganforge.models import seqgan


class TextGame(Game):
    """What the text games share: data, networks, the MLE loss, D's loss, samples, export."""

    name = "mle"
    families = ("seqgan",)
    channels_last_on_cpu = False

    def __init__(self, ctx: Context, data, models: tuple[nn.Module, nn.Module] | None = None):
        super().__init__(ctx, data)
        if data.kind != "text":
            raise GanforgeError(f"the {self.name} game trains text models, and data '{ctx.cfg.data.source}' is "
                                f"{data.kind} (expected shakespeare, fortunes, text-oracle or a text file)")
        if ctx.dist.enabled:
            raise GanforgeError(f"the {self.name} game runs in one process: start it without torchrun")
        self.domain = domain_for(data)
        self.models = models
        self.nrow = 1

    @staticmethod
    def load_data(cfg, cache_dir: Path | None = None):
        from ganforge.data.text import load_text
        d = cfg.data
        return load_text(d.source, d.tokens, d.vocab_size, d.seq_len, cfg.train.seed, cache_dir)

    def networks(self) -> tuple[nn.Module, nn.Module]:
        if self.models is not None:
            return self.models
        m, d = self.ctx.cfg.model, self.data
        if m.conditional:
            raise GanforgeError("text models are unconditional: drop --conditional")
        vocab = len(d.vocab)
        G = seqgan.Generator(m.z_dim, vocab, d.seq_len, m.width, embed=m.width, cell=m.cell, end=d.end)
        D = seqgan.Discriminator(vocab, d.seq_len, width=2 * m.width, embed=m.width)
        return G, D

    def bind(self, G, D, train_G, train_D) -> None:
        super().bind(G, D, train_G, train_D)
        from ganforge.training.batches import make_batches
        ctx = self.ctx
        self.batches = make_batches(self.data, ctx.cfg.train.batch_size, ctx.device, ctx.data_rng)
        self.local_batch = ctx.cfg.train.batch_size  # (one process)
        g = torch.Generator().manual_seed(ctx.cfg.train.seed + 3)
        self.fixed_z = torch.randn(self.domain.picture_count, G.z_dim, generator=g).to(ctx.device)
        self.sampling = torch.Generator(ctx.device)  # the sample picture's draws, reseeded for each picture

    def phases(self) -> list[Phase]:
        return [Phase("G_mle", self.mle_loss, "G")]

    def check_stages(self, adversarial: int) -> None:
        """A GAN game whose run ends before its adversarial stage starts is a mistake: say so."""
        steps = self.ctx.cfg.train.steps
        if adversarial >= steps:
            raise GanforgeError(f"--steps {steps} ends before the {self.name} stage, which starts after {adversarial} "
                                f"pre-training steps: raise --steps or lower --pretrain-steps (or train --game mle)")

    # ----------------------------------------------------------------- the losses
    def latents(self, n: int) -> Tensor:
        return self.ctx.global_draw(torch.randn, n, self.G.z_dim)

    def mle_loss(self) -> Tensor:
        """Teacher forcing: the mean negative log-likelihood per token of a real batch."""
        real, _ = self.batches.next()                        # (B, L) token ids
        z = self.latents(len(real))
        nll = -self.G.log_probs(real, z).sum() / self.G.counted(real).sum()
        self.ctx.stats.report("Loss/G/mle", nll)
        return nll

    def fakes(self, z: Tensor) -> Tensor:
        """G's sequences (B, L) of z, without gradient."""
        with torch.no_grad():
            return self.G(z, generator=self.ctx.noise)

    def d_loss(self) -> Tensor:
        """D tells real sequences (1) from G's samples (0): binary cross-entropy."""
        real, _ = self.batches.next()
        real_logits, fake_logits = self.train_D(real), self.train_D(self.fakes(self.latents(len(real))))
        loss_real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
        loss_fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        self.report_d(real_logits, fake_logits)
        return loss_real + loss_fake

    def report_d(self, real_logits: Tensor, fake_logits: Tensor) -> None:
        report = self.ctx.stats.report
        report("D/D(x)", torch.sigmoid(real_logits.detach()).mean())
        report("D/D(G(z))", torch.sigmoid(fake_logits.detach()).mean())
        report("D/real_acc", (real_logits.detach() > 0).float().mean())
        report("D/fake_acc", (fake_logits.detach() < 0).float().mean())

    # ----------------------------------------------------------------- outputs
    @torch.no_grad()
    def save_samples(self, G_ema: nn.Module, path: Path) -> Tensor:
        """The fixed z's lines, drawn at temperature 1 from the same seed at every picture."""
        self.sampling.manual_seed(self.ctx.cfg.train.seed + 6)
        return self.domain.save_picture(G_ema(self.fixed_z, generator=self.sampling), path)

    def evaluation(self):
        return self.domain.evaluation(self.ctx.cfg, self.ctx.run_dir)

    def data_info(self) -> dict:
        return {"source": self.ctx.cfg.data.source, "kind": "text", "shape": list(self.data.shape),
                "class_names": None, **self.domain.info()}


class MLEGame(TextGame):
    """The maximum-likelihood baseline: G trained by teacher forcing alone (D is not trained)."""

    name = "mle"
