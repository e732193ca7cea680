"""The embedded expert models of the demo suite, with their weights committed under ``adapters/weights``.

- ``linear-probe``: frozen EfficientNet-Lite0 ImageNet features + a logistic-regression head trained on the
  demo training split (UnivFD's recipe with a backbone that ships in a package).
- ``npr-demo``: a small NPR-style CNN (neighbouring-pixel residuals) trained on the demo training split.

Both load any weights trained by ``spotfake train classifier --arch linear-probe|npr-demo`` via ``path=``.
How the committed weights were trained is in ``docs/experts.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spotfake.adapters.experts.checkpoints import load_into, unwrap_state_dict
from spotfake.adapters.experts.expert import ExpertAdapter
from spotfake.adapters.experts.npr import DEFAULT_CONFIG as NPR_CONFIG
from spotfake.adapters.experts.npr import NPR
from spotfake.adapters.experts.probe import (
    BACKBONE,
    CROP,
    FEATURE_DIM,
    RESIZE,
    SPEC,
    LinearProbeNet,
    Lite0Features,
    ProbeHead,
    backbone_file,
)

WEIGHTS_DIR = Path(__file__).parent / "weights"
PUBLISHED = "spotfake (adapters/weights/, trained as docs/experts.md says)"
LINEAR_PROBE_WEIGHTS = WEIGHTS_DIR / "linear_probe_demo.safetensors"
NPR_DEMO_WEIGHTS = WEIGHTS_DIR / "npr_demo.safetensors"

LINEAR_PROBE_CONFIG: dict[str, Any] = {
    "arch": "linear-probe",
    "backbone": BACKBONE,
    "feature_dim": FEATURE_DIM,
    "resize": RESIZE,
    "crop": CROP,
    "C": None,  # the logistic regression's inverse regularisation, as fitted
}

NPR_DEMO_CONFIG: dict[str, Any] = {**NPR_CONFIG, "layers": [1, 1], "width": 16, "resize": None, "crop": None}
"""A small NPR network at the images' own size: two one-block stages, 16/32 bottleneck widths."""


class LinearProbe(ExpertAdapter):
    """``--model linear-probe [--model-args path=<probe .safetensors>,threshold=0.5,device=cpu]``."""

    arch = "linear-probe"
    published = PUBLISHED

    def __init__(
        self, path: str | None = None, threshold: str = "0.5", device: str = "auto", batch_size: str = "32"
    ) -> None:
        super().__init__(threshold=threshold, device=device, batch_size=batch_size)
        weights, obj = self.read_configured(path or LINEAR_PROBE_WEIGHTS, LINEAR_PROBE_CONFIG)
        head = ProbeHead(int(self.config["feature_dim"]))
        load_into(head, unwrap_state_dict(obj, weights), weights, "linear-probe")
        self.add_file(backbone_file())
        self.options["backbone"] = self.config["backbone"]
        self.use(LinearProbeNet(Lite0Features(), head), SPEC)


class NPRDemo(NPR):
    """``--model npr-demo [--model-args path=<weights>,threshold=0.5]``: NPR with the demo's small config."""

    arch = "npr-demo"
    published = PUBLISHED
    default_config = NPR_DEMO_CONFIG
    default_path = str(NPR_DEMO_WEIGHTS)
