"""What is trained: one file per game, registered by the name `--game` takes.

  generation   z (+ label) -> data: G(z, c) vs D(x, c)          (GANs, cGANs, ACGAN, ...)
  pix2pix      paired x -> y: G(x) vs D(y, x), GAN + L1          (games/translation.py)
  cycle        unpaired A <-> B: two G, two D, cycle + identity  (games/cycle.py)
  rewarded     generation + a learnt reward of a score without gradient (MolGAN's RL term)
  video        z -> clips: MoCoGAN's G vs an image and a video judge (games/video.py)

Adding a game is adding a file with a `Game` subclass (games/base.py) and a line here.
"""

from __future__ import annotations

from ganforge.games.base import Context, Game, Phase
from ganforge.games.cycle import CycleGame
from ganforge.games.generation import GenerationGame
from ganforge.games.rewarded import RewardedGame
from ganforge.games.translation import TranslationGame
from ganforge.games.video import VideoGame

GAMES: dict[str, type[Game]] = {"generation": GenerationGame, "pix2pix": TranslationGame, "cycle": CycleGame,
                               "rewarded": RewardedGame, "video": VideoGame}

__all__ = ["GAMES", "Context", "Game", "Phase"]
