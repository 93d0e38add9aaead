"""ganforge: generative adversarial networks as creative tools, in pure PyTorch.

    import ganforge
    model_dir = ganforge.train("ring8", "runs/ring8")   # a preset name or a ganforge.Config
    G = ganforge.load(model_dir)                        # the EMA generator, eval mode
    points = G(torch.randn(2500, G.z_dim))

    cfg = ganforge.game_config("pix2pix")               # a game's defaults: pix2pix, cycle
"""

__version__ = "0.1.0"

from ganforge.config import PRESETS, Config, game_config, preset_config  # noqa: E402
from ganforge.errors import GanforgeError  # noqa: E402
from ganforge.modeling import load, save_pretrained  # noqa: E402
from ganforge.training.trainer import Trainer, train  # noqa: E402

__all__ = ["PRESETS", "Config", "GanforgeError", "Trainer", "game_config", "load", "preset_config", "save_pretrained",
           "train"]
