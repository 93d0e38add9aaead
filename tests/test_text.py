"""Text data, models and measures: tokenisers that round-trip, one-line errors for bad input,
the oracle, the generator's end padding, roll-outs and Gumbel output, BLEU against a value
worked by hand and self-BLEU against its definition."""

from __future__ import annotations

import math
import random

import pytest
import torch

from ganforge.data.oracle import Oracle
from ganforge.data.text import END, SPECIALS, decode, fortune_lines, load_text, split_tokens
from ganforge.errors import GanforgeError
from ganforge.metrics.text import bleu, self_bleu
from ganforge.models.seqgan import Discriminator, Generator

LINES = ["The cat sat on the mat.", "A dog, a log!", "the mat is on the cat", "Is it? It is."] * 10


def write_lines(path, lines=LINES):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_characters_round_trip(tmp_path):
    data = load_text(str(write_lines(tmp_path / "a.txt")), "chars", seq_len=32)
    assert data.kind == "text" and data.x.dtype == torch.long and data.x.shape[1] == 32
    assert data.vocab[:2] == list(SPECIALS) and data.vocab[2] == " "  # the commonest character next
    assert set(decode(data.x, data.vocab, "chars")) == set(LINES)
    assert (data.x[:, -1] == END).all()  # every line ends within its room


def test_words_round_trip_and_unknown_words(tmp_path):
    path = write_lines(tmp_path / "a.txt")
    data = load_text(str(path), "words", seq_len=12)
    assert set(decode(data.x, data.vocab, "words")) == {"the cat sat on the mat.", "a dog, a log!",
                                                       "the mat is on the cat", "is it? it is."}
    assert split_tokens("Don't stop, 42!", "words") == ["don't", "stop", ",", "42", "!"]
    small = load_text(str(path), "words", vocab_size=5, seq_len=12)  # <end>, <unk> + 3 words
    assert len(small.vocab) == 5 and small.vocab[2] == "the"
    assert "<unk>" in " ".join(decode(small.x, small.vocab, "words"))


def test_folder_of_text_files_skips_binaries(tmp_path):
    write_lines(tmp_path / "a.txt", LINES[:20])
    write_lines(tmp_path / "sub.txt", LINES[20:])
    (tmp_path / "pic.bin").write_bytes(b"\x89PNG\0\0\0")
    data = load_text(str(tmp_path), "chars")
    assert len(data.x) + len(data.held_out) == len(LINES) and len(data.held_out) == 4  # a tenth held out


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "a binary file, not text"),
    ("caf\u00e9 au lait\n".encode("latin-1") * 5, "not UTF-8 text"),
])
def test_bad_text_files_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(GanforgeError, match=message) as e:
        load_text(str(path))
    assert "\n" not in str(e.value) and ("UTF-8" in str(e.value))


def test_vocabulary_and_length_beyond_the_corpus(tmp_path, cli):
    path = str(write_lines(tmp_path / "a.txt"))
    with pytest.raises(GanforgeError, match="larger than the corpus allows.*14 distinct words"):
        load_text(path, "words", vocab_size=100)
    with pytest.raises(GanforgeError, match="every line is longer.*shortest has 13 chars"):
        load_text(path, "chars", seq_len=8)
    r = cli("train", "--game", "mle", "--data", path, "--seq-len", "8", "--out", str(tmp_path / "run"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--seq-len" in r.stderr
    r = cli("train", "--data", path, "--game", "mle", "--tokens", "words", "--vocab-size", "100",
            "--out", str(tmp_path / "run"))
    assert r.returncode == 2 and "larger than the corpus allows" in r.stderr


def test_fortunes_are_quotes():
    try:
        quotes = fortune_lines()
    except GanforgeError:
        pytest.skip("Debian fortunes is not installed")
    assert len(quotes) > 1000 and all("\n" not in q and q for q in quotes[:100])


def test_the_oracle_is_seeded_and_likes_its_own_sequences():
    a, b = Oracle(50, 8, seed=3), Oracle(50, 8, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    own = a.sample(500, torch.Generator().manual_seed(0))
    assert own.shape == (500, 8) and 0 <= own.min() and own.max() < 50
    uniform = torch.randint(50, (500, 8), generator=torch.Generator().manual_seed(1))
    assert a.nll(own) < a.nll(uniform) - 0.5 and a.nll(uniform) > math.log(50) - 0.5


def test_generator_pads_with_the_end_token_and_scores_only_up_to_it():
    torch.manual_seed(0)
    G = Generator(4, vocab=6, seq_len=10, width=8, embed=8, end=END)
    x = G(torch.randn(64, 4))
    assert x.shape == (64, 10)
    for row in x.tolist():
        if END in row:
            assert set(row[row.index(END):]) == {END}
    tokens = torch.tensor([[3, 4, END, END, END, END, END, END, END, END]])
    assert G.counted(tokens).tolist() == [[1, 1, 1] + [0] * 7]
    lp = G.log_probs(tokens, torch.randn(1, 4))
    assert (lp[0, 3:] == 0).all() and (lp[0, :3] < 0).all()


def test_rollouts_keep_their_prefixes():
    G = Generator(4, vocab=7, seq_len=6, width=8, embed=8, end=-1, cell="gru")
    z = torch.randn(3, 4)
    tokens = G(z)
    r = G.rollouts(z, tokens, n=2)
    assert r.shape == (5, 2, 3, 6)
    for t in range(1, 6):
        assert torch.equal(r[t - 1, :, :, :t], tokens[:, :t].expand(2, -1, -1))


@pytest.mark.parametrize("straight_through", [False, True])
def test_gumbel_output_passes_d_gradient_to_g(straight_through):
    G = Generator(4, vocab=9, seq_len=5, width=8, embed=8)
    D = Discriminator(9, 5, width=8, embed=8)
    soft, tokens = G.gumbel(torch.randn(4, 4), beta=5.0, straight_through=straight_through)
    assert soft.shape == (4, 5, 9) and torch.allclose(soft.sum(-1), torch.ones(4, 5), atol=1e-5)
    if straight_through:
        assert torch.equal(soft.argmax(-1), tokens) and torch.allclose(soft, soft.round(), atol=1e-6)
    D(soft).sum().backward()
    assert G.out.weight.grad.abs().sum() > 0
    assert torch.allclose(D.eval()(tokens), D(torch.nn.functional.one_hot(tokens, 9).float()), atol=1e-5)


def test_bleu_matches_a_value_worked_by_hand():
    hyp, ref = "the cat sat on the mat".split(), "the cat is on the mat".split()
    # unigrams 5/6 matched (one "sat" unmatched), bigrams 3/5; equal lengths: no brevity penalty
    assert bleu([hyp], [ref], 2) == pytest.approx(math.sqrt(5 / 6 * 3 / 5))
    assert bleu([ref], [ref, hyp], 4) == pytest.approx(1.0)
    short = "the cat".split()  # brevity penalty exp(1 - 6/2); both precisions 1
    assert bleu([short], [ref], 2) == pytest.approx(math.exp(1 - 3))


def test_self_bleu_is_each_sample_against_the_others():
    rng = random.Random(0)
    samples = [[rng.choice("abcdef") for _ in range(rng.randint(3, 9))] for _ in range(40)]
    direct = sum(bleu([s], samples[:i] + samples[i + 1:], 3) for i, s in enumerate(samples)) / len(samples)
    assert self_bleu(samples, 3) == pytest.approx(direct)
    assert self_bleu([list("abcabc")] * 5, 4) == pytest.approx(1.0)
