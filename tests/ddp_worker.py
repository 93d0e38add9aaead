"""Run by tests/test_distributed.py under torchrun (2 gloo processes): trains the scenarios
the test names with the real Trainer, checks after every step that both ranks hold the
same weights, and saves rank 0's weights (and game state) and D's gradients for comparison
with one process.

    torchrun --standalone --nproc_per_node 2 tests/ddp_worker.py OUT_DIR SCENARIO...
"""

import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).parent))
from ddp_scenarios import CONTROLS, GAME_SCENARIOS, SCENARIOS, STEPS  # noqa: E402

from ganforge.training.distributed import exit_process  # noqa: E402
from ganforge.training.trainer import Trainer  # noqa: E402


def flat(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in module.parameters()])


def main(out: Path, names: list[str]) -> None:
    report = {}
    for name in names:
        trainer = Trainer({**SCENARIOS, **CONTROLS, **GAME_SCENARIOS}[name](), out / name, progress=False)
        worst = 0.0
        for _ in range(STEPS):
            trainer.train_step()
            mine = torch.cat([flat(trainer.G), flat(trainer.D)])
            theirs = [torch.empty_like(mine) for _ in range(dist.get_world_size())]
            dist.all_gather(theirs, mine)
            worst = max(worst, max(float((t - mine).abs().max()) for t in theirs))
            if trainer.step == 1 and dist.get_rank() == 0:  # D's gradients of the first step
                grads = {n: p.grad.clone() for n, p in trainer.D.named_parameters() if p.grad is not None}
                torch.save(grads, out / f"{name}-grads.pt")
        if trainer.evaluation is not None:
            trainer.evaluate()
            report[f"{name}/metrics"] = trainer.stats.collect()
        if dist.get_rank() == 0:
            # (the game's own state too: CycleGAN's history pools, gathered from both ranks)
            torch.save({"G": trainer.G.state_dict(), "D": trainer.D.state_dict(), "game": trainer.game.state_dict()},
                       out / f"{name}-weights.pt")
        report[f"{name}/rank_difference"] = worst
    if dist.get_rank() == 0:
        (out / "report.json").write_text(json.dumps(report))
    dist.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
    exit_process(0)  # as `ganforge train` does under torchrun: torch 2.13's gloo may abort at shutdown
