"""Config: dataclass sections, YAML/JSON round trips, merge, validate, and the PRESETS table."""

from __future__ import annotations

import pytest

from ganforge.config import PRESETS, Config, merge, preset_config, validate
from ganforge.errors import GanforgeError
from ganforge.losses import LOSSES
from ganforge.models import FAMILIES


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_save_and_load_round_trip(suffix, tmp_path, helpers):
    cfg = helpers.tiny_config("digits", loss={"name": "wgan-gp", "gp_weight": 5.0}, optim={"lr_g": 1e-5},
                              model={"conditional": True})
    cfg.preset = "custom"
    path = tmp_path / f"config{suffix}"
    cfg.save(path)
    assert Config.load(path) == cfg
    if suffix == ".json":
        assert path.read_text().lstrip().startswith("{")


def test_from_dict_fills_defaults_for_missing_sections_and_options():
    cfg = Config.from_dict({"train": {"steps": 7}})
    assert cfg.train.steps == 7 and cfg.train.batch_size == Config().train.batch_size
    assert cfg.model == Config().model
    assert Config.from_dict(Config().to_dict()) == Config()


@pytest.mark.parametrize("overrides, fragments", [
    ({"trian": {"steps": 1}}, ["'trian'", "data", "model", "loss", "optim", "train"]),
    ({"train": {"stepz": 1}}, ["'train.stepz'", "steps", "batch_size"]),
    ({"train": 5}, ["'train'"]),
])
def test_merge_names_unknown_sections_and_options(overrides, fragments):
    with pytest.raises(GanforgeError) as info:
        merge(Config(), overrides)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_merge_applies_nested_overrides_and_leaves_the_original_alone():
    base = Config()
    cfg = merge(base, {"loss": {"name": "hinge"}, "preset": "x"})
    assert cfg.loss.name == "hinge" and cfg.preset == "x"
    assert base.loss.name == "non-saturating" and base.preset is None


def test_merge_returns_an_independent_copy():
    base = Config()
    cfg = merge(base, {"loss": {"name": "hinge"}})
    cfg.train.steps = 5
    assert base.train.steps == 2000


@pytest.mark.parametrize("section, option, value, fragments", [
    ("loss", "name", "wgan_gp", ["wgan_gp", *LOSSES]),
    ("model", "family", "stylegan", ["stylegan", *FAMILIES]),
    ("optim", "name", "sgd", ["sgd", "adam", "rmsprop"]),
    ("train", "amp", "fp8", ["fp8", "bf16"]),
    ("train", "steps", 0, ["train.steps", "positive integer"]),
    ("train", "batch_size", -1, ["train.batch_size"]),
    ("train", "batch_size", 2.5, ["train.batch_size"]),
    ("model", "width", 0, ["model.width"]),
    ("loss", "n_critic", 0, ["loss.n_critic"]),
    ("loss", "r1_interval", 0, ["loss.r1_interval"]),
    ("train", "checkpoint_every", 0, ["train.checkpoint_every"]),
    ("optim", "lr_g", 0.0, ["optim.lr_g", "positive learning rate"]),
    ("optim", "lr_d", float("inf"), ["optim.lr_d"]),
    ("train", "minutes", -1.0, ["train.minutes", ">= 0"]),
    ("train", "dist_timeout", 0.0, ["train.dist_timeout", "positive number of minutes"]),
    ("data", "channels", 2, ["data.channels", "1 or 3"]),
    ("data", "resolution", 0, ["data.resolution", "positive side such as 64, or WIDTHxHEIGHT"]),
    ("optim", "beta1", 1.5, ["optim.beta1", "[0, 1)", "1.5"]),
    ("optim", "beta2", 1.0, ["optim.beta2", "[0, 1)"]),
    ("optim", "beta1", -0.1, ["optim.beta1"]),
    ("loss", "gp_weight", -1.0, ["loss.gp_weight", ">= 0"]),
    ("loss", "r1_gamma", -0.5, ["loss.r1_gamma", ">= 0"]),
    ("loss", "r1_gamma", float("nan"), ["loss.r1_gamma"]),
    ("loss", "aux_weight", -1.0, ["loss.aux_weight"]),
    ("loss", "clip", 0.0, ["loss.clip", "positive number"]),
    ("model", "depth", 0, ["model.depth", "positive integer"]),
    ("train", "ema_half_life", -1.0, ["train.ema_half_life", ">= 0"]),
    ("train", "ema_rampup", float("inf"), ["train.ema_rampup"]),
    ("train", "eval_every", -1, ["train.eval_every", "integer >= 0"]),
    ("train", "threads", -2, ["train.threads", "integer >= 0"]),
    ("train", "eval_samples", 1, ["train.eval_samples", ">= 2"]),
    ("train", "seed", -1, ["train.seed", "[0, 2**32)"]),
])
def test_validate_names_the_bad_option(section, option, value, fragments):
    with pytest.raises(GanforgeError) as info:  # merge checks types, validate checks values
        validate(merge(Config(), {section: {option: value}}))
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_validate_accepts_the_defaults_and_returns_the_config():
    cfg = Config()
    assert validate(cfg) is cfg


@pytest.mark.parametrize("text, fragment", [
    ("train: [1, 2\n", "not valid YAML"),
    ("- a\n- b\n", "expected a mapping"),
    ("", "expected a mapping"),
])
def test_load_rejects_files_that_are_not_configs(text, fragment, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(GanforgeError, match=fragment):
        Config.load(path)


def test_load_of_a_missing_file(tmp_path):
    with pytest.raises(GanforgeError, match="not found"):
        Config.load(tmp_path / "nope.yaml")


def test_hand_written_yaml_values_load_as_their_types(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  source: digits\n  resolution: 16\nmodel:\n  family: dcgan\n"
                    "  conditional: true\ntrain:\n  steps: 10\n  batch_size: 32\n  ema_half_life: 0.0\n"
                    "optim:\n  lr_g: 0.0001\n")
    cfg = validate(Config.load(path))
    assert (cfg.data.resolution, cfg.model.conditional, cfg.train.steps, cfg.optim.lr_g) == (16, True, 10, 1e-4)


@pytest.mark.parametrize("written, kept", [("16", 16), ("'16'", 16), ("64x48", "64x48"), ("' 64 X 48 '", "64x48"),
                                           ("32x32", 32), ("null", None)])
def test_a_resolution_is_a_side_or_width_x_height(tmp_path, written, kept):
    path = tmp_path / "c.yaml"
    path.write_text(f"data:\n  source: digits\n  resolution: {written}\n")
    assert validate(Config.load(path)).data.resolution == kept


@pytest.mark.parametrize("written", ["64x", "64by48", "'0x8'", "[48, 64]", "-3"])
def test_a_bad_resolution_is_one_line(tmp_path, written):
    path = tmp_path / "c.yaml"
    path.write_text(f"data:\n  source: digits\n  resolution: {written}\n")
    with pytest.raises(GanforgeError, match="option data.resolution must be") as e:
        validate(Config.load(path))
    assert "\n" not in str(e.value)


def test_a_learning_rate_in_e_notation_loads_as_a_number(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("optim:\n  lr_g: 1e-4\n  lr_d: 2e-4\n")
    cfg = validate(Config.load(path))
    assert (cfg.optim.lr_g, cfg.optim.lr_d) == (1e-4, 2e-4)


# ----------------------------------------------------------------- presets
def test_the_documented_presets_exist_with_descriptions():
    assert {"ring8", "grid25", "digits-dcgan", "fashion-dcgan"} <= PRESETS.keys()
    for preset in PRESETS.values():
        assert preset.description and "\n" not in preset.description


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_is_a_valid_config_that_remembers_its_name(name, tmp_path):
    cfg = preset_config(name)
    if not cfg.data.source:  # the folder presets: valid once given a folder
        with pytest.raises(GanforgeError, match=f"preset '{name}' trains on your images: pass --data PATH"):
            validate(cfg)
        cfg.data.source = str(tmp_path)
    cfg = validate(cfg)
    assert cfg.preset == name
    assert preset_config(name) == merge(cfg, {"data": {"source": preset_config(name).data.source}})  # a fresh copy
    cfg.train.steps = 1
    assert preset_config(name).train.steps != 1  # mutating one does not change the table


def test_an_unknown_preset_lists_the_known_ones():
    with pytest.raises(GanforgeError) as info:
        preset_config("ring9")
    assert "ring9" in str(info.value) and all(name in str(info.value) for name in PRESETS)
