"""What the data is: how a sample is drawn in a picture, probed for the collapse alarm and
measured. One file per domain; `domain_for(data)` picks one by the data's `kind`, so the
training loop never branches on it."""

from __future__ import annotations

from ganforge.domains.audio import AudioDomain
from ganforge.domains.images import ImagesDomain
from ganforge.domains.molecules import MoleculesDomain
from ganforge.domains.music import MusicDomain
from ganforge.domains.points import PointsDomain
from ganforge.domains.text import TextDomain
from ganforge.domains.video import VideoDomain
from ganforge.errors import GanforgeError

DOMAINS = {"points": PointsDomain, "images": ImagesDomain, "music": MusicDomain, "molecules": MoleculesDomain,
           "audio": AudioDomain, "text": TextDomain, "video": VideoDomain,
           "pairs": ImagesDomain, "unpaired": ImagesDomain}  # the translation games' data are images too


def domain_for(data):
    """The domain of a loaded dataset (ganforge.data.load_data and friends), by its kind."""
    if data.kind not in DOMAINS:
        raise GanforgeError(f"no domain for data of kind '{data.kind}' (expected one of: {', '.join(DOMAINS)})")
    return DOMAINS[data.kind](data)
