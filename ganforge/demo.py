"""`ganforge demo`: a toy GAN and an image GAN trained on offline data, in a few minutes."""

from __future__ import annotations

from pathlib import Path

from ganforge.config import PRESETS, preset_config
from ganforge.errors import GanforgeError
from ganforge.evaluate import evaluate_mode_coverage
from ganforge.training.run_dir import is_used, run_owner
from ganforge.training.trainer import Trainer

DEMO_PRESETS = ("ring8", "digits-dcgan")


def run_demo(out: Path) -> None:
    """Train ring8 and digits-dcgan into out/ (replacing an earlier demo) and say where."""
    for preset in DEMO_PRESETS:  # all checked before the first is trained or cleared
        _check_demo_dir(out / preset, out)
    for preset in DEMO_PRESETS:
        print(f"== {preset}: {PRESETS[preset].description}")
        trainer = Trainer(preset_config(preset), out / preset, force=True, owner="demo")
        trainer.fit()
        print(f"   samples: {trainer.run_dir / 'samples' / 'latest.png'}")
        if preset == "ring8":
            metrics = evaluate_mode_coverage(trainer.run_dir)["metrics"]
            print(f"   modes captured {metrics['modes']:.0f}/8, high quality {metrics['hq_percent']:.1f}%, "
                  f"reverse KL {metrics['reverse_kl']:.3f}")
    print(f"demo done: runs, samples and exported models are under {out}/")


def _check_demo_dir(run_dir: Path, out: Path) -> None:
    """The demo replaces only runs it wrote itself, never one the user trained (or their files)."""
    if run_dir.exists() and not run_dir.is_dir():
        raise GanforgeError(f"demo output {run_dir} exists and is not a directory; pass another --out to ganforge demo")
    if not is_used(run_dir) or run_owner(run_dir) == "demo":
        return
    what = "holds a run you trained" if run_owner(run_dir) else "holds files that are not the demo's"
    raise GanforgeError(f"{run_dir} {what}; the demo replaces only its own runs: "
                        f"move it, or pass another --out to ganforge demo (now {out})")
