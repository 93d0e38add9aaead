"""The video game: MoCoGAN's (Tulyakov et al. 2018). G makes clips from a content latent and
per-frame motion innovations (models/mocogan.py); its D side holds two judges trained by one
optimiser, so the loop still sees two sides:

  image judge  one random frame of each clip (N, C, H, W): is it a real picture?
  video judge  the whole clip (N, C, T, H, W) through 3-D convolutions: is it real motion?

  loss_D = loss(image judge) + loss(video judge)        loss_G = g(image judge) + g(video judge)

with any of the objectives of ganforge.losses (pure functions of logits), as the generation
game. A conditional model's judges see the clip's class (the sprites' item: --conditional).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from ganforge.errors import GanforgeError
from ganforge.games.base import Context
from ganforge.games.generation import GenerationGame


class VideoGame(GenerationGame):
    name = "video"
    families = ("mocogan",)

    def __init__(self, ctx: Context, data, models: tuple[nn.Module, nn.Module] | None = None):
        if data.kind != "video":
            raise GanforgeError(f"the video game trains on clips, and data '{ctx.cfg.data.source}' is {data.kind} "
                                "(expected moving-fashion, moving-digits or a folder of clips)")
        super().__init__(ctx, data, models)
        cfg = ctx.cfg
        unsupported = {"a gradient penalty (wgan-gp)": self.constraint == "gp", "R1": cfg.loss.r1_gamma > 0,
                       "--reuse-fakes": cfg.train.reuse_fakes, "acgan": self.acgan,
                       "--feature-matching": cfg.loss.feature_matching > 0}
        named = [what for what, given in unsupported.items() if given]
        if named:
            raise GanforgeError(f"the video game trains without {', '.join(named)} (its two judges take the "
                                "non-saturating, minimax, lsgan, hinge or wgan loss, and labels by concat or projection)")

    def training_forms(self, G: nn.Module, D: nn.Module) -> tuple[nn.Module, nn.Module]:
        return G, D  # both judges behind D's own forward

    @staticmethod
    def load_data(cfg, cache_dir: Path | None = None):
        from ganforge.data.video import load_video
        d = cfg.data
        return load_video(d.source, d.resolution, d.channels, d.frames, d.sprites, d.clips)

    def bind(self, G, D, train_G, train_D) -> None:
        super().bind(G, D, train_G, train_D)
        g = torch.Generator().manual_seed(self.ctx.cfg.train.seed + 5)  # the fixed clips' motion
        self.fixed_noise = torch.randn(len(self.fixed_z), G.frames, G.motion_dim, generator=g).to(self.ctx.device)

    # ----------------------------------------------------------------- the losses
    def fakes(self, n: int, c: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor | None]:
        """(clips G makes (n, C, T, H, W), their z, their labels): z, innovations and labels from the shared noise."""
        z, drawn = self.latents(n)
        c = drawn if c is None else c
        noise = self.ctx.global_draw(torch.randn, n, self.G.frames, self.G.motion_dim)
        return self.train_G(z, c, noise=noise), z, c

    def frame_of(self, clips: Tensor) -> Tensor:
        """One random frame of each clip (B, C, H, W), for the image judge."""
        t = self.ctx.global_draw(lambda *s, **kw: torch.randint(clips.shape[2], s, **kw), clips.shape[0])
        return clips[torch.arange(clips.shape[0], device=clips.device), :, t]

    def d_loss(self) -> Tensor:
        report, objective = self.ctx.stats.report, self.objective
        real, c = self.batches.next()                        # (B, C, T, H, W) in [-1, 1], labels (B,) or None
        with torch.no_grad():
            fake, _, _ = self.fakes(real.shape[0], c)        # fakes of the real batch's classes
        losses = {}
        for judge, r, f in (("image", self.frame_of(real), self.frame_of(fake)), ("video", real, fake)):
            real_logits, fake_logits = self.train_D(r, c, judge=judge), self.train_D(f, c, judge=judge)
            losses[judge] = objective.d_real(real_logits) + objective.d_fake(fake_logits)
            report(f"Loss/D/{judge}", losses[judge])
            if judge == "video" and self.ctx.detailed:
                from ganforge.games.generation import report_d_outputs
                self._last_logits = report_d_outputs(report, real_logits.detach(), fake_logits.detach())
        loss = losses["image"] + losses["video"]
        report("Loss/D", loss)
        return loss

    def g_loss(self) -> Tensor:
        report = self.ctx.stats.report
        fake, z, c = self.fakes(self.local_batch)
        image = self.objective.g(self.D(self.frame_of(fake), c, judge="image"))  # D is not updated here: no DDP sync
        video = self.objective.g(self.D(fake, c, judge="video"))
        report("Loss/G/image", image)
        report("Loss/G/video", video)
        loss = image + video
        report("Loss/G", loss)
        return loss + self.mode_seeking(fake, z)

    # ----------------------------------------------------------------- outputs
    @torch.no_grad()
    def save_samples(self, G_ema: nn.Module, path: Path) -> Tensor:
        samples = G_ema(self.fixed_z, self.fixed_c, noise=self.fixed_noise)
        return self.domain.save_picture(samples, path)

    @torch.no_grad()
    def probe(self, G: nn.Module) -> Tensor:
        n = self.domain.probe_count
        G.eval()
        x = G(self.fixed_z[:n], None if self.fixed_c is None else self.fixed_c[:n], noise=self.fixed_noise[:n])
        G.train()
        return x
