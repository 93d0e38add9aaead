"""A Gumbel-softmax GAN for text in RelGAN's style (Nie et al. 2019): G's output is made
differentiable, so D's gradient reaches G as for images.

At each step G draws its token by the Gumbel-max trick, argmax(o + g), and feeds it back;
D sees softmax(beta * (o + g)) (B, L, V), which tends to that one-hot as the inverse
temperature beta grows. beta rises from 1 to game.gumbel_max over the adversarial stage,
exponentially (RelGAN's "exp" schedule: beta_n = beta_max ** (n / N)): soft early, when
gradients need room, nearly discrete at the end, when D must judge real-looking inputs.
--straight-through forwards the one-hot itself (the softmax's gradient backwards).
The loss is the relativistic standard GAN's (RSGAN), as RelGAN uses.

Stages: [0, P) G_mle (game.pretrain_steps P), then D (n_critic) and G.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ganforge.games.base import Phase
from ganforge.games.language import TextGame
from ganforge.losses.objectives import relativistic_d, relativistic_g


class GumbelGame(TextGame):
    name = "gumbel"

    def __init__(self, ctx, data, models=None):
        super().__init__(ctx, data, models)
        self.adversarial_steps = 0  # G updates of the adversarial stage (beta's schedule)

    def phases(self) -> list[Phase]:
        start, n_critic = self.ctx.cfg.game.pretrain_steps, self.ctx.cfg.loss.n_critic
        self.check_stages(start)
        return [Phase("G_mle", self.mle_loss, "G", stop=start),
                Phase("D", self.d_loss, "D", repeats=n_critic, start=start),
                Phase("G", self.g_loss, "G", start=start)]

    def beta(self) -> float:
        g, steps = self.ctx.cfg.game, self.ctx.cfg.train.steps
        span = max(1, steps - g.pretrain_steps)
        return g.gumbel_max ** min(1.0, self.adversarial_steps / span)

    def relaxed(self, n: int) -> Tensor:
        """G's soft one-hot sequences (n, L, V) at the current beta."""
        soft, _ = self.G.gumbel(self.latents(n), self.beta(), self.ctx.cfg.model.straight_through,
                                generator=self.ctx.noise)
        return soft

    def d_loss(self) -> Tensor:
        real, _ = self.batches.next()
        with torch.no_grad():
            fake = self.relaxed(len(real))
        real_logits, fake_logits = self.train_D(real), self.train_D(fake)
        self.report_d(real_logits, fake_logits)
        loss = relativistic_d(real_logits, fake_logits)
        self.ctx.stats.report("Loss/D", loss)
        return loss

    def g_loss(self) -> Tensor:
        real, _ = self.batches.next()
        fake = self.relaxed(len(real))
        loss = relativistic_g(self.D(real), self.D(fake))  # D is not updated here
        self.adversarial_steps += 1
        self.ctx.stats.report("Loss/G", loss)
        self.ctx.stats.report("G/beta", self.beta())
        return loss

    def state_dict(self) -> dict:
        return {"adversarial_steps": self.adversarial_steps}

    def load_state_dict(self, state: dict) -> None:
        self.adversarial_steps = int(state.get("adversarial_steps", 0))
