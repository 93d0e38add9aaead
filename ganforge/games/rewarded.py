"""The generation game with a learnt reward: MolGAN's reinforcement-learning term (De Cao &
Kipf 2018; ORGAN's idea, Guimaraes et al. 2017) for any domain that can score its samples
(molecules: QED, logP or SA through RDKit, which has no gradient).

A reward network R, D's architecture with a sigmoid, learns the domain's score of real and
generated samples beside D (in D's phase, by D's optimiser: its weights are R's own); G then
follows R's gradient as well as D's:

  loss_G = (1 - lambda) * loss_GAN  -  lambda * s * mean R(G(z))

lambda is `game.reward_weight` (0: the plain GAN; 1: the reward alone; note that MolGAN's
paper writes the same mix with its lambda on the GAN term). s = |loss_GAN| / |mean R|,
without gradient, puts both terms on one scale, as MolGAN's code does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.errors import GanforgeError
from ganforge.games.base import Context
from ganforge.games.generation import GenerationGame


class Judges(nn.Module):
    """The D side: the critic D and the reward network R, one forward for both (DDP syncs
    gradients only of what goes through forward)."""

    def __init__(self, critic: nn.Module, reward: nn.Module):
        super().__init__()
        self.critic, self.reward = critic, reward
        self.c_dim = critic.c_dim

    def forward(self, x: Tensor, c: Tensor | None = None, reward: bool = False, with_classes: bool = False) -> Tensor:
        return self.reward(x).sigmoid() if reward else self.critic(x, c)  # (unconditional: no classes to say)


class RewardedGame(GenerationGame):
    name = "rewarded"

    def __init__(self, ctx: Context, data, models: tuple[nn.Module, nn.Module] | None = None):
        super().__init__(ctx, data, models)
        game, cfg = ctx.cfg.game, ctx.cfg
        if not hasattr(self.domain, "reward"):
            raise GanforgeError(f"the rewarded game steers G by a score of its samples, and data "
                                f"'{cfg.data.source}' ({data.kind}) has none (molecules do: QED, logP, SA)")
        self.domain.check_reward(game.reward)  # (config.validate checks the weight)
        if self.num_classes or cfg.train.reuse_fakes:
            raise GanforgeError("the rewarded game trains unconditional models without --reuse-fakes")
        self.reward_name, self.weight = game.reward, game.reward_weight

    def networks(self) -> tuple[nn.Module, nn.Module]:
        G, D = super().networks()
        R = type(D)(**D.hparams)  # the reward network: D's architecture, its own weights
        return G, Judges(D, R)

    def training_forms(self, G: nn.Module, D: nn.Module) -> tuple[nn.Module, nn.Module]:
        return G, D

    def d_loss(self) -> Tensor:
        loss = super().d_loss()
        real, fake = self.judged  # the batch D just judged: R learns their scores
        target = torch.cat([self.domain.reward(real, self.reward_name), self.domain.reward(fake, self.reward_name)])
        predicted = self.train_D(torch.cat([real, fake]), reward=True)
        r_loss = F.mse_loss(predicted.float(), target)
        self.ctx.stats.report("Loss/R", r_loss)
        self.ctx.stats.report("R/real_score", target[:len(real)].mean())
        self.ctx.stats.report("R/fake_score", target[len(real):].mean())
        return loss + r_loss

    def g_loss(self) -> Tensor:
        z, _ = self.latents(self.local_batch)
        fake = self.train_G(z, None)
        gan = self.objective.g(self.D(fake))     # D is not updated here: no DDP sync
        reward = self.D(fake, reward=True).mean()
        scale = (gan.detach().abs() / reward.detach().abs().clamp_min(1e-8))
        loss = (1 - self.weight) * gan - self.weight * scale * reward
        self.ctx.stats.report("Loss/G/gan", gan)
        self.ctx.stats.report("Loss/G/reward", reward)
        self.ctx.stats.report("Loss/G", loss)
        return loss + self.mode_seeking(fake, z) + self.feature_matching(fake)

    def export(self, G_ema: nn.Module, out_dir):
        from ganforge import modeling
        return modeling.save_pretrained(G_ema, out_dir, {**self.data_info(), "reward": self.reward_name,
                                                          "reward_weight": self.weight})

