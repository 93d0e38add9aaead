"""Configs that tests/test_distributed.py trains on 2 processes (tests/ddp_worker.py) and on
one, to compare. Small DCGANs on digits at 8 px, global batch 32 (16 per process)."""

from ganforge.config import Config, merge

STEPS = 3

_BASE = {"data": {"source": "digits", "resolution": 8},
         "model": {"family": "dcgan", "z_dim": 16, "width": 8},
         "train": {"steps": 100, "batch_size": 32, "seed": 0, "ema_half_life": 500.0, "log_every": 1,
                   "eval_every": 0, "device": "cpu", "threads": 1, "sync_batchnorm": True}}


def _config(**sections) -> Config:
    return merge(merge(Config(), _BASE), sections)


SCENARIOS = {
    # BatchNorm in G and D, synchronised; the end's FID from samples made on both ranks
    "batchnorm": lambda: _config(train={"eval_every": 1000, "eval_metrics": "fid", "eval_samples": 200}),
    # no BatchNorm in D (the penalty needs per-sample gradients), D's input gradients with create_graph
    "wgan-gp": lambda: _config(loss={"name": "wgan-gp"}),
    # lazy R1 every step, ACGAN: D's class head is unused in the R1 pass (DDP's find_unused_parameters)
    "r1-acgan": lambda: _config(model={"conditional": True, "conditioning": "acgan"},
                                loss={"r1_gamma": 1.0, "r1_interval": 1}),
}
# the control: BatchNorm per process (the default) normalises 16-sample slices, not the 32
# of the global batch, so this run must NOT equal one process's
CONTROLS = {"batchnorm-per-process": lambda: _config(train={"sync_batchnorm": False})}

# The translation games (tests/test_games.py launches these in a torchrun of their own): digits
# at 16 px, global batch 8 (4 per process), random crops and flips drawn for the global batch.
# pix2pix's U-Net draws dropout per process, as any network with dropout does under DDP, so
# its scenario uses the other generator the game takes, the ResNet translator, with BatchNorm
# in G and in the PatchGAN synchronised (_BASE's sync_batchnorm). CycleGAN: instance norm, and
# a pool of 4 per D that the first step fills, so later steps swap pooled images in at random.
_JITTER = {"resolution": 16, "holdout": 16, "jitter": True, "flip": True}
_TRANSLATORS = {"width": 8, "d_layers": 2, "blocks": 1}

GAME_SCENARIOS = {
    "pix2pix": lambda: _config(game={"name": "pix2pix"}, data={**_JITTER, "pairs": "edges"},
                               model={**_TRANSLATORS, "family": "resnet-translator"}, train={"batch_size": 8}),
    "cycle": lambda: _config(game={"name": "cycle", "pool_size": 4},
                             data={**_JITTER, "source": "digits:3", "source_b": "digits:8"},
                             model={**_TRANSLATORS, "family": "auto"}, train={"batch_size": 8}),
}
