"""SeqGAN (Yu et al. 2017): G is a policy choosing one token after another; D's probability
that a finished sequence is real is its reward.

Stages (steps of one run):
  [0, P)              G_mle   maximum likelihood (game.pretrain_steps P)
  [P, P + Q)          D_pre   D alone on real vs G's samples (game.d_pretrain_steps Q)
  [P + Q, steps)      D       n_critic D updates, then
                      G       REINFORCE: loss = -mean_t log G(y_t | y_<t) * Q_t, where Q_t, the
                              value of the prefix y_1..t, is D's mean probability of n Monte-Carlo
                              completions of it by G (game.rollouts), and D's probability of the
                              whole sequence at t = L
"""

from __future__ import annotations

import torch
from torch import Tensor

from ganforge.games.base import Phase
from ganforge.games.language import TextGame


class SeqGANGame(TextGame):
    name = "seqgan"

    def phases(self) -> list[Phase]:
        g, n_critic = self.ctx.cfg.game, self.ctx.cfg.loss.n_critic
        adversarial = g.pretrain_steps + g.d_pretrain_steps
        self.check_stages(adversarial)
        return [Phase("G_mle", self.mle_loss, "G", stop=g.pretrain_steps),
                Phase("D_pre", self.d_loss, "D", start=g.pretrain_steps, stop=adversarial),
                Phase("D", self.d_loss, "D", repeats=n_critic, start=adversarial),
                Phase("G", self.policy_loss, "G", start=adversarial)]

    @torch.no_grad()
    def rewards(self, z: Tensor, tokens: Tensor) -> Tensor:
        """Q (B, L): D's mean probability of the roll-outs from each prefix; at L, of the sequence."""
        b, length = tokens.shape
        n = self.ctx.cfg.game.rollouts
        completions = self.G.rollouts(z, tokens, n, generator=self.ctx.noise)  # (L - 1, n, B, L)
        was_training = self.D.training
        self.D.eval()  # rewards without dropout
        try:
            p = torch.sigmoid(self.D(completions.reshape(-1, length))).view(length - 1, n, b).mean(1)  # (L - 1, B)
            last = torch.sigmoid(self.D(tokens))[None]                                               # (1, B)
        finally:
            self.D.train(was_training)
        return torch.cat([p, last]).T                                                                 # (B, L)

    def policy_loss(self) -> Tensor:
        z = self.latents(self.local_batch)
        tokens = self.fakes(z)
        q = self.rewards(z, tokens)
        log_p = self.G.log_probs(tokens, z)                                   # (B, L), 0 after the end
        loss = -(log_p * q).sum() / self.G.counted(tokens).sum()
        self.ctx.stats.report("Loss/G/policy", loss)
        self.ctx.stats.report("G/reward", q[:, -1].mean())
        return loss
