"""`ganforge demo`: a toy GAN and an image GAN trained on offline data, in a few minutes."""

from __future__ import annotations

from pathlib import Path

from ganforge.config import PRESETS, preset_config
from ganforge.evaluate import evaluate_mode_coverage
from ganforge.training.trainer import Trainer


def run_demo(out: Path) -> None:
    """Train ring8 and digits-dcgan into out/ (replacing an earlier demo) and say where."""
    for preset in ("ring8", "digits-dcgan"):
        print(f"== {preset}: {PRESETS[preset].description}")
        trainer = Trainer(preset_config(preset), out / preset, force=True)
        trainer.fit()
        print(f"   samples: {trainer.run_dir / 'samples' / 'latest.png'}")
        if preset == "ring8":
            metrics = evaluate_mode_coverage(trainer.run_dir)["metrics"]
            print(f"   modes captured {metrics['modes']:.0f}/8, high quality {metrics['hq_percent']:.1f}%, "
                  f"reverse KL {metrics['reverse_kl']:.3f}")
    print(f"demo done: runs, samples and exported models are under {out}/")
