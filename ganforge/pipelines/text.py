"""Writing text with a trained text model (mle, seqgan, gumbel games): n lines drawn at a
sampling temperature, decoded with the vocabulary exported beside the weights."""

from __future__ import annotations

from pathlib import Path

import torch

from ganforge import atomic
from ganforge.data.text import decode
from ganforge.errors import GanforgeError
from ganforge.pipelines.base import Pipeline
from ganforge.provenance import comment_line

OUTPUTS = (".txt",)


class TextPipeline(Pipeline):
    """`pipe(n, seed=0, temperature=1.0)` -> n lines of text."""

    kind = "text"

    def __init__(self, generator, device="cpu"):
        super().__init__(generator, device)
        info = getattr(self.G, "data_info", None) or {}
        if "vocab" not in info:
            raise GanforgeError("this text model does not record its vocabulary (data.vocab in its config.json): "
                                "export it again with this ganforge")
        self.vocab, self.level, self.end = list(info["vocab"]), info.get("level", "chars"), int(info.get("end", 0))
        self.last_record: dict | None = None

    @torch.no_grad()
    def __call__(self, n: int, *, seed: int = 0, temperature: float = 1.0, batch_size: int = 256) -> list[str]:
        """n lines from z and draws seeded by `seed`, each token drawn from softmax(logits / temperature)
        (below 1: likelier, more alike lines; above 1: more varied, less likely ones)."""
        if n < 1 or batch_size < 1:
            raise GanforgeError(f"n and batch_size must be at least 1, got {n} and {batch_size}")
        if not (isinstance(temperature, (int, float)) and 0 < temperature < float("inf")):
            raise GanforgeError(f"temperature must be a positive number, got {temperature!r}")
        self.last_record = self.provenance("generate text", seed=seed, sampler=f"temperature {temperature:g}")
        g = torch.Generator().manual_seed(seed)  # on the CPU: the same lines on any device
        lines = []
        for i in range(0, n, batch_size):
            z = torch.randn(min(batch_size, n - i), self.G.z_dim, generator=g)
            draws = torch.Generator(self.device).manual_seed(int(torch.randint(2**62, (1,), generator=g)))
            tokens = self.G(z.to(self.device), temperature=temperature, generator=draws)
            lines += decode(tokens.cpu(), self.vocab, self.level, self.end)
        return lines

    def save(self, lines: list[str], path: str | Path, record: dict | None = None) -> Path:
        """A .txt file: the provenance comment line, then one line a sample."""
        path = Path(path)
        if path.suffix.lower() not in OUTPUTS:
            raise GanforgeError(f"--out {path}: text is written as {', '.join(OUTPUTS)} (one line a sample)")
        record = record or self.last_record or self.provenance("generate text", seed="unknown")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return atomic.write_text(path, "\n".join([comment_line(record)] + lines) + "\n")
        except OSError as e:
            raise GanforgeError(f"cannot write {path}: {e.strerror}") from None
