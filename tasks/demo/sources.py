"""The real photographs the demo set is cut from: photos shipped inside scikit-image and scikit-learn.

Each source names its loader, content category (FakeClue-style ``cate``), licence and attribution, as the
packages document them; nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from spotfake.harness.errors import SpotfakeError


@dataclass(frozen=True)
class PhotoSource:
    """One real photograph (or photo set) shipped in a package."""

    name: str
    """Short id used in file names and the records' ``source`` field."""
    category: str
    """Content category written to ``cate``."""
    package: str
    loader: str
    """The package function that returns it (for the documentation)."""
    licence: str
    attribution: str
    weight: int = 1
    """Relative share of the real crops taken from this source."""
    faces: bool = False
    """A set of small whole images (LFW) rather than one large photo to cut crops from."""


SOURCES: tuple[PhotoSource, ...] = (
    PhotoSource(
        "astronaut",
        "human",
        "scikit-image",
        "skimage.data.astronaut",
        "public domain",
        "NASA (Eileen Collins), NASA Great Images database",
    ),
    PhotoSource(
        "camera",
        "human",
        "scikit-image",
        "skimage.data.camera",
        "CC0",
        "Lav Varshney",
    ),
    PhotoSource(
        "lfw-faces",
        "human",
        "scikit-image",
        "skimage.data.lfw_subset (first 100, the faces)",
        "no licence published (research set of news photographs)",
        "Labeled Faces in the Wild, Huang et al.; 25x25 crops as shipped by scikit-image",
        weight=0,
        faces=True,
    ),
    PhotoSource(
        "chelsea",
        "animal",
        "scikit-image",
        "skimage.data.chelsea",
        "CC0",
        "Stefan van der Walt",
        weight=2,
    ),
    PhotoSource(
        "coffee",
        "object",
        "scikit-image",
        "skimage.data.coffee",
        "CC0",
        "Rachel Michetti (Pikolo Espresso Bar)",
    ),
    PhotoSource(
        "rocket",
        "object",
        "scikit-image",
        "skimage.data.rocket",
        "public domain",
        "SpaceX (DSCOVR launch)",
    ),
    PhotoSource(
        "motorcycle",
        "object",
        "scikit-image",
        "skimage.data.stereo_motorcycle (left and right views)",
        "Middlebury 2014 stereo benchmark terms (free for research use)",
        "Scharstein et al., Middlebury College",
    ),
    PhotoSource(
        "coins",
        "object",
        "scikit-image",
        "skimage.data.coins",
        "no known copyright restrictions",
        "Brooklyn Museum Collection",
    ),
    PhotoSource(
        "china",
        "scene",
        "scikit-learn",
        "sklearn.datasets.load_sample_images (china.jpg)",
        "CC BY 2.0",
        "danielbuechele (Flickr)",
    ),
    PhotoSource(
        "flower",
        "scene",
        "scikit-learn",
        "sklearn.datasets.load_sample_images (flower.jpg)",
        "CC BY 2.0",
        "vultilion (Flickr)",
    ),
    PhotoSource(
        "brick",
        "texture",
        "scikit-image",
        "skimage.data.brick",
        "CC0",
        "CC0Textures (Bricks25)",
    ),
    PhotoSource(
        "grass",
        "texture",
        "scikit-image",
        "skimage.data.grass",
        "CC0",
        "linolafett (DeviantArt)",
    ),
    PhotoSource(
        "gravel",
        "texture",
        "scikit-image",
        "skimage.data.gravel",
        "CC0",
        "CC0Textures (Gravel04)",
    ),
    PhotoSource(
        "immunohistochemistry",
        "medical",
        "scikit-image",
        "skimage.data.immunohistochemistry",
        "no known copyright restrictions",
        "Center for Microscopy And Molecular Imaging (CMMI)",
    ),
    PhotoSource(
        "retina",
        "medical",
        "scikit-image",
        "skimage.data.retina",
        "CC0",
        "Mikael Häggström (Wikimedia Commons)",
    ),
    PhotoSource(
        "hubble",
        "space",
        "scikit-image",
        "skimage.data.hubble_deep_field",
        "public domain",
        "NASA/HubbleSite",
    ),
)

LFW_FACES = 100
"""``lfw_subset()`` holds 100 faces followed by 100 non-face background patches; only the faces are used."""


def _as_rgb(image: np.ndarray) -> np.ndarray:
    """uint8 HxWx3 from a grey or RGB(A) uint8 array."""
    if image.dtype != np.uint8:
        image = np.clip(np.round(np.asarray(image, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3])


def _skimage(name: str) -> Callable[[], list[np.ndarray]]:
    def load() -> list[np.ndarray]:
        import skimage.data

        return [_as_rgb(getattr(skimage.data, name)())]

    return load


def _motorcycle() -> list[np.ndarray]:
    import skimage.data

    left, right, _ = skimage.data.stereo_motorcycle()
    return [_as_rgb(left), _as_rgb(right)]


def _lfw_faces() -> list[np.ndarray]:
    import skimage.data

    faces = skimage.data.lfw_subset()[:LFW_FACES]
    return [_as_rgb(face) for face in faces]


def _sklearn(filename: str) -> Callable[[], list[np.ndarray]]:
    def load() -> list[np.ndarray]:
        from sklearn.datasets import load_sample_image

        return [_as_rgb(load_sample_image(filename))]

    return load


LOADERS: dict[str, Callable[[], list[np.ndarray]]] = {
    "astronaut": _skimage("astronaut"),
    "camera": _skimage("camera"),
    "lfw-faces": _lfw_faces,
    "chelsea": _skimage("chelsea"),
    "coffee": _skimage("coffee"),
    "rocket": _skimage("rocket"),
    "motorcycle": _motorcycle,
    "coins": _skimage("coins"),
    "china": _sklearn("china.jpg"),
    "flower": _sklearn("flower.jpg"),
    "brick": _skimage("brick"),
    "grass": _skimage("grass"),
    "gravel": _skimage("gravel"),
    "immunohistochemistry": _skimage("immunohistochemistry"),
    "retina": _skimage("retina"),
    "hubble": _skimage("hubble_deep_field"),
}


def load_source(source: PhotoSource) -> list[np.ndarray]:
    """The source's photo(s) as uint8 RGB arrays; a clear error when the package cannot provide them."""
    try:
        return LOADERS[source.name]()
    except (ImportError, OSError, ValueError) as exc:
        raise SpotfakeError(
            f"cannot load the demo source photo {source.name!r} ({source.loader}): {exc}; "
            f"is {source.package} installed with its sample data?"
        ) from None
