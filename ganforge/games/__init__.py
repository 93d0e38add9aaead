"""What is trained: one file per game, registered by the name `--game` takes.

  generation   z (+ label) -> data: G(z, c) vs D(x, c)          (GANs, cGANs, ACGAN, ...)
  pix2pix      paired x -> y: G(x) vs D(y, x), GAN + L1          (games/translation.py)
  cycle        unpaired A <-> B: two G, two D, cycle + identity  (games/cycle.py)
  superres     paired x -> y `scale` times bigger: SRResNet, ESRGAN (games/superres.py)
  repair       holes (boxes, strokes) filled: inpainter + SN-PatchGAN  (games/repair.py)
  rewarded     generation + a learnt reward of a score without gradient (MolGAN's RL term)
  mle          text: a recurrent G by maximum likelihood alone, the baseline (games/language.py)
  seqgan       text: MLE, then policy gradient rewarded by D's roll-outs (SeqGAN)
  gumbel       text: MLE, then a Gumbel-softmax GAN with RSGAN's loss (RelGAN's style)
  video        z -> clips: MoCoGAN's G vs an image and a video judge (games/video.py)

Adding a game is adding a file with a `Game` subclass (games/base.py) and a line here.
"""

from __future__ import annotations

from ganforge.games.base import Context, Game, Phase
from ganforge.games.cycle import CycleGame
from ganforge.games.generation import GenerationGame
from ganforge.games.gumbel import GumbelGame
from ganforge.games.language import MLEGame
from ganforge.games.rewarded import RewardedGame
from ganforge.games.repair import RepairGame
from ganforge.games.seqgan import SeqGANGame
from ganforge.games.superres import SuperResGame
from ganforge.games.translation import TranslationGame
from ganforge.games.video import VideoGame

GAMES: dict[str, type[Game]] = {"generation": GenerationGame, "pix2pix": TranslationGame, "cycle": CycleGame,
                               "rewarded": RewardedGame, "superres": SuperResGame, "mle": MLEGame,
                               "seqgan": SeqGANGame, "gumbel": GumbelGame, "video": VideoGame,
                               "repair": RepairGame}

__all__ = ["GAMES", "Context", "Game", "Phase"]
