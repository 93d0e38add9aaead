"""ganforge.modeling: save_pretrained / load round trips and one-line errors on bad input."""

from __future__ import annotations

import json
import struct

import pytest
import torch
from safetensors import safe_open

from ganforge.errors import GanforgeError
from ganforge.modeling import family_of, load, save_pretrained
from ganforge.models import dcgan, mlp, resnet, toy


def make(family: str, c_dim: int = 0):
    torch.manual_seed(0)
    G = {"toy": lambda: toy.Generator(z_dim=3, dim=2, width=16, depth=2, c_dim=c_dim),
         "mlp": lambda: mlp.Generator(z_dim=5, resolution=8, channels=1, width=8, c_dim=c_dim),
         "dcgan": lambda: dcgan.Generator(z_dim=5, resolution=14, channels=3, width=4, c_dim=c_dim),
         "dcgan-cbn": lambda: dcgan.Generator(z_dim=5, resolution=14, channels=3, width=4, c_dim=c_dim,
                                              g_conditioning="batchnorm"),
         "resnet-cbn": lambda: resnet.Generator(z_dim=5, resolution=8, channels=1, width=4, c_dim=c_dim,
                                                g_conditioning="batchnorm")}[family]()
    # a few training-mode passes give the BatchNorm layers running statistics of their own
    with torch.no_grad():
        for _ in range(3):
            G(torch.randn(8, G.z_dim), torch.randint(0, c_dim, (8,)) if c_dim else None)
    return G.eval()


def sample(G, c_dim: int = 0):
    g = torch.Generator().manual_seed(42)
    z = torch.randn(6, G.z_dim, generator=g)
    c = torch.arange(6) % c_dim if c_dim else None
    with torch.no_grad():
        return G(z, c)


def one_line_error(path, match: str) -> str:
    with pytest.raises(GanforgeError, match=match) as e:
        load(path)
    assert "\n" not in str(e.value) and len(str(e.value)) < 400
    return str(e.value)


@pytest.mark.parametrize("family", ["toy", "mlp", "dcgan", "dcgan-cbn", "resnet-cbn"])
@pytest.mark.parametrize("c_dim", [0, 3])
def test_round_trip_gives_identical_outputs_and_state(tmp_path, family, c_dim):
    G = make(family, c_dim)
    info = {"source": "test", "kind": "points" if family == "toy" else "images", "class_names": ["a", "b", "c"]}
    out = save_pretrained(G, tmp_path / "model", info)
    assert out == tmp_path / "model"
    H = load(out)
    assert type(H) is type(G) and family_of(H) == family.removesuffix("-cbn")
    assert H.hparams == G.hparams and [type(m) for m in H.modules()] == [type(m) for m in G.modules()]
    assert torch.equal(sample(G, c_dim), sample(H, c_dim))
    a, b = G.state_dict(), H.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) and a[k].dtype == b[k].dtype for k in a)
    assert (H.z_dim, H.c_dim, H.resolution, H.channels) == (G.z_dim, G.c_dim, G.resolution, G.channels)
    assert H.data_info == info
    assert not H.training and not any(p.requires_grad for p in H.parameters())


def test_export_is_config_json_and_safetensors_only(tmp_path):
    G = make("dcgan")
    save_pretrained(G, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.safetensors"]
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["family"] == "dcgan" and config["kwargs"] == G.hparams and config["data"] == {}
    raw = (tmp_path / "model.safetensors").read_bytes()
    # safetensors layout: u64 little-endian header size, a JSON header, raw tensor bytes; no pickle
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    assert set(header) - {"__metadata__"} == set(G.state_dict())
    assert header["__metadata__"]["family"] == "dcgan"
    assert not raw.startswith(b"\x80") and not raw.startswith(b"PK")  # not a pickle, not a torch zip
    with safe_open(str(tmp_path / "model.safetensors"), "pt") as f:
        for k, v in G.state_dict().items():
            assert torch.equal(f.get_tensor(k), v)


def test_load_opens_the_model_folder_of_a_run_directory(tmp_path):
    G = make("toy")
    save_pretrained(G, tmp_path / "run" / "model")
    (tmp_path / "run" / "metrics.jsonl").write_text("")
    assert torch.equal(sample(load(tmp_path / "run")), sample(G))
    assert torch.equal(sample(load(str(tmp_path / "run" / "model"))), sample(G))


def test_load_on_a_folder_that_is_not_a_model_names_what_it_expects(tmp_path):
    one_line_error(tmp_path, "not an exported ganforge model or run")
    (tmp_path / "config.json").write_text("{}")
    one_line_error(tmp_path, "not an exported ganforge model")  # no weights beside it
    one_line_error(tmp_path / "missing", "not an exported ganforge model")


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '"dcgan"', '{"family": "toy"}',
                                  '{"family": "toy", "kwargs": [1, 2]}', '{"family": ["toy"], "kwargs": {}}'])
def test_a_corrupt_config_is_a_one_line_error(tmp_path, text):
    save_pretrained(make("toy"), tmp_path)
    (tmp_path / "config.json").write_text(text)
    one_line_error(tmp_path, "config.json: not a ganforge model config")


def test_a_config_that_is_not_utf8_is_a_one_line_error(tmp_path):
    save_pretrained(make("toy"), tmp_path)
    (tmp_path / "config.json").write_bytes(b"\xff\xfe\x00\x81 garbage")
    one_line_error(tmp_path, "config.json: not a ganforge model config")


def test_an_unknown_family_is_named(tmp_path):
    save_pretrained(make("toy"), tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "family": "stylegan9"}))
    one_line_error(tmp_path, "unknown model family 'stylegan9'")


@pytest.mark.parametrize("kwargs, match", [({"bogus": 1}, "cannot build a dcgan generator"),
                                           ({"resolution": 25}, "cannot build a dcgan generator.*25 px")])
def test_kwargs_the_family_cannot_build_are_a_one_line_error(tmp_path, kwargs, match):
    G = make("dcgan")
    save_pretrained(G, tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["kwargs"].update(kwargs)
    (tmp_path / "config.json").write_text(json.dumps(config))
    one_line_error(tmp_path, match)


def test_weights_that_do_not_fit_the_config_are_a_one_line_error(tmp_path):
    save_pretrained(make("dcgan"), tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["kwargs"]["width"] = 8  # the weights were made with width 4
    (tmp_path / "config.json").write_text(json.dumps(config))
    message = one_line_error(tmp_path, "model.safetensors: weights do not fit the config")
    assert "size mismatch" in message
    # the weights of another family
    save_pretrained(make("mlp"), tmp_path / "other")
    (tmp_path / "other" / "model.safetensors").replace(tmp_path / "model.safetensors")
    config["kwargs"]["width"] = 4
    (tmp_path / "config.json").write_text(json.dumps(config))
    one_line_error(tmp_path, "weights do not fit the config")


def test_a_corrupt_weights_file_is_a_one_line_error(tmp_path):
    save_pretrained(make("toy"), tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 7)
    one_line_error(tmp_path, "weights do not fit the config")


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_exporting_non_finite_weights_is_refused_and_writes_nothing(tmp_path, bad):
    G = make("mlp")
    with torch.no_grad():
        next(G.parameters())[0, 0] = bad
    with pytest.raises(GanforgeError, match="non-finite weights") as e:
        save_pretrained(G, tmp_path / "model")
    assert "\n" not in str(e.value)
    assert not (tmp_path / "model" / "model.safetensors").exists()
    assert not (tmp_path / "model" / "config.json").exists()


def test_a_new_export_replaces_the_earlier_one_whole(tmp_path):
    save_pretrained(make("mlp"), tmp_path / "model", {"source": "old"})
    G = make("toy")
    save_pretrained(G, tmp_path / "model", {"source": "new"})
    H = load(tmp_path / "model")
    assert family_of(H) == "toy" and H.data_info == {"source": "new"}
    assert torch.equal(sample(G), sample(H))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary or old folder left
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["config.json", "model.safetensors"]


def test_an_export_that_fails_midway_leaves_the_earlier_one_untouched(tmp_path):
    save_pretrained(make("toy"), tmp_path / "model", {"source": "old"})
    before = {p.name: p.read_bytes() for p in (tmp_path / "model").iterdir()}
    with pytest.raises(TypeError):  # config.json cannot hold it: fails after the weights were written
        save_pretrained(make("mlp"), tmp_path / "model", {"source": object()})
    assert {p.name: p.read_bytes() for p in (tmp_path / "model").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert family_of(load(tmp_path / "model")) == "toy"


def test_an_export_never_replaces_a_folder_holding_other_files(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "notes.txt").write_text("mine")
    with pytest.raises(GanforgeError, match="holds files other than an exported model's") as e:
        save_pretrained(make("toy"), tmp_path / "model")
    assert "\n" not in str(e.value) and "notes.txt" in str(e.value)
    assert [p.name for p in (tmp_path / "model").iterdir()] == ["notes.txt"]


def test_other_modules_are_custom_and_their_export_loads_only_with_their_class(tmp_path):
    assert family_of(make("mlp")) == "mlp"
    assert family_of(torch.nn.Linear(2, 2)) == "custom"
    assert family_of(dcgan.Discriminator(resolution=8, width=4)) == "custom"
    G = torch.nn.Linear(3, 2)
    save_pretrained(G, tmp_path / "m")
    with pytest.raises(GanforgeError, match="your own generator class torch.nn.modules.linear.Linear"):
        load(tmp_path / "m")
    from safetensors.torch import load_file
    H = torch.nn.Linear(3, 2)
    H.load_state_dict(load_file(str(tmp_path / "m" / "model.safetensors")))
    assert torch.equal(H.weight, G.weight)


def test_a_generator_with_tied_weights_exports_and_loads_back(tmp_path):
    torch.manual_seed(0)
    G = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Tanh(), torch.nn.Linear(4, 4))
    G[2].weight = G[0].weight  # tied: two state_dict names, one tensor (safetensors refuses those)
    save_pretrained(G, tmp_path / "m")
    from safetensors.torch import load_file
    H = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Tanh(), torch.nn.Linear(4, 4))
    H[2].weight = H[0].weight
    H.load_state_dict(load_file(str(tmp_path / "m" / "model.safetensors")))
    z = torch.randn(3, 4)
    assert torch.equal(H(z), G(z)) and H[2].weight is H[0].weight


@pytest.mark.parametrize("family", ["toy", "dcgan"])
def test_a_discriminator_exported_beside_g_loads_back_with_identical_outputs(tmp_path, family):
    from ganforge.modeling import D_FILES, load_discriminator

    G = make(family)
    torch.manual_seed(1)
    D = toy.Discriminator(dim=2, width=16, depth=2) if family == "toy" else \
        dcgan.Discriminator(resolution=14, channels=3, width=4, spectral_norm=True)
    x = sample(G)
    out = save_pretrained(G, tmp_path / "model", {"source": "test"}, discriminator=D)
    assert all((out / f).is_file() for f in D_FILES)
    E = load_discriminator(out)
    assert type(E) is type(D) and torch.equal(E(x), D.eval()(x)) and not any(p.requires_grad for p in E.parameters())
    save_pretrained(G, out)  # a later export without D replaces the whole model: no stale D beside it
    assert not any((out / f).exists() for f in D_FILES)
    with pytest.raises(GanforgeError, match="exported without its discriminator.*--export-discriminator"):
        load_discriminator(out)


def test_a_discriminator_of_your_own_class_is_refused_in_one_line(tmp_path):
    with pytest.raises(GanforgeError, match="cannot export a discriminator of class Linear"):
        save_pretrained(make("toy"), tmp_path / "model", discriminator=torch.nn.Linear(2, 1))
    assert not (tmp_path / "model").exists()
