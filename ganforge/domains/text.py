"""Text: token sequences (int64 (N, L) ids, ganforge/data/text.py). A sample picture is a text
panel, the fixed z's lines at that step (step-N.png), with the lines themselves beside it
(step-N.txt, and latest.txt that report.html shows). Measured during training (and by
benchmarks/text.py): on the oracle set NLL_oracle and NLL_test; on real text BLEU-2..4 of
generated lines against held-out ones, self-BLEU-2..4, and NLL_test (metrics/text.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor, nn

from ganforge import atomic
from ganforge.data.text import decode, split_tokens
from ganforge.domains.evaluation import SampledEvaluation
from ganforge.metrics.text import bleu, model_nll, self_bleu

PANEL_WIDTH = 100   # characters of a line shown in the picture (longer ones are cut with ...)


class TextDomain:
    kind = "text"
    images = False
    picture_count = 16  # lines in a sample picture
    probe_count = 0     # no collapse probe: the spread of token ids means nothing

    def __init__(self, data):
        self.data = data

    def scale(self) -> float:  # (the generation game asks before it refuses text)
        return 1.0

    def info(self) -> dict:
        """What decoding needs, kept in the exported model's config.json (the vocabulary)."""
        d = self.data
        return {"vocab": d.vocab, "level": d.level, "end": d.end, "seq_len": d.seq_len,
                "oracle_seed": d.oracle_seed, "split_seed": d.split_seed}

    def lines(self, tokens: Tensor) -> list[str]:
        return decode(tokens.cpu(), self.data.vocab, self.data.level, self.data.end)

    def save_picture(self, samples: Tensor, path: Path, nrow: int | None = None,
                     critic: nn.Module | None = None) -> Tensor:
        """step-N.png (the lines as a panel), step-N.txt and latest.txt (the lines)."""
        lines = self.lines(samples)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        panel = text_panel(lines, f"{path.stem}")
        atomic.write(path, lambda f: panel.save(f, format="PNG"))
        text = "\n".join(lines) + "\n"
        atomic.write_text(path.with_suffix(".txt"), text)
        atomic.write_text(path.with_name("latest.txt"), text)
        return torch.from_numpy(np.asarray(panel).copy()).permute(2, 0, 1)[None].float() / 127.5 - 1  # (1, 3, H, W)

    def evaluation(self, cfg, run_dir: Path | None = None) -> TextEvaluation:
        t = cfg.train
        return TextEvaluation(self, t.eval_every, t.eval_samples, t.seed)


def text_panel(lines: list[str], title: str = "") -> Image.Image:
    """The lines numbered, black on white, in Pillow's built-in font."""
    font = ImageFont.load_default()
    shown = [f"{i + 1:>2}. {(s if len(s) <= PANEL_WIDTH else s[:PANEL_WIDTH - 3] + '...')}" for i, s in enumerate(lines)]
    rows = ([title] if title else []) + shown
    box = [font.getbbox(r or " ") for r in rows]
    height = max(b[3] for b in box) + 4
    width = max(b[2] for b in box) + 16
    img = Image.new("RGB", (max(width, 200), height * len(rows) + 12), "white")
    draw = ImageDraw.Draw(img)
    for i, r in enumerate(rows):
        draw.text((8, 6 + i * height), r, fill=(120, 120, 120) if title and i == 0 else (0, 0, 0), font=font)
    return img


class TextEvaluation(SampledEvaluation):
    """`n` sequences of G (seeded z and draws) measured against the held-out ones."""

    def __init__(self, domain: TextDomain, every: int, n: int, seed: int):
        self.domain, self.every, self.n, self.seed = domain, every, n, seed

    @torch.no_grad()
    def sample(self, G: nn.Module, temperature: float = 1.0, batch: int = 500) -> Tensor:
        device = next(G.parameters()).device
        g = torch.Generator(device).manual_seed(self.seed + 4)
        was_training = G.training
        G.eval()
        try:
            return torch.cat([G(torch.randn(min(batch, self.n - i), G.z_dim, device=device, generator=g),
                                temperature=temperature, generator=g) for i in range(0, self.n, batch)]).cpu()
        finally:
            G.train(was_training)

    def _measure(self, G: nn.Module, temperature: float = 1.0) -> dict[str, float]:
        return text_metrics(G, self.sample(G, temperature), self.domain.data, self.seed, temperature)


def text_metrics(G: nn.Module, generated: Tensor, data, seed: int = 0, temperature: float = 1.0) -> dict[str, float]:
    """The oracle's NLL_oracle and NLL_test, or real text's BLEU-2..4, self-BLEU-2..4 and NLL_test
    (G's NLL of the held-out sequences at the temperature `generated` was drawn at)."""
    held = data.held_out
    out = {"nll_test": model_nll(G, held, seed=seed, temperature=temperature)}
    if data.oracle_seed is not None:
        from ganforge.data.oracle import Oracle
        out["nll_oracle"] = Oracle(len(data.vocab), data.seq_len, data.oracle_seed).nll(generated)
        return out
    hyps, refs = bleu_tokens(generated, data), bleu_tokens(held, data)
    for n in (2, 3, 4):
        out[f"bleu{n}"] = bleu(hyps, refs, n)
    for n in (2, 3, 4):
        out[f"self_bleu{n}"] = self_bleu(hyps, n)
    return out


def bleu_tokens(x: Tensor, data) -> list[list[str]]:
    """(N, L) ids -> each line's words, what BLEU counts (as Texygen does): a character model's
    lines are split into words too, since character 4-grams of English are nearly all in any
    2,000 reference lines (BLEU-4 of its characters is ~0.9 for any plausible spelling)."""
    return [split_tokens(line, "words") for line in decode(x.cpu(), data.vocab, data.level, data.end)]
