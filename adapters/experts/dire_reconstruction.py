"""DIRE's pre-processor: an image becomes ``|x - DDIM reconstruction|`` under the ADM 256x256
unconditional model (``preprocessor=256x256_diffusion_uncond.pt`` for ``--model dire``).

What the authors' script does (github.com/ZhendongWang6/DIRE at 1f89fff, under ``guided-diffusion/``):

- model flags (``compute_dire.sh:8``): ``--attention_resolutions 32,16,8 --class_cond False
  --diffusion_steps 1000 --dropout 0.1 --image_size 256 --learn_sigma True --noise_schedule linear
  --num_channels 256 --num_head_channels 64 --num_res_blocks 2 --resblock_updown True --use_fp16 True
  --use_scale_shift_norm True``, checkpoint ``models/256x256_diffusion_uncond.pt`` (``compute_dire.sh:4``);
  sampling flags ``--timestep_respacing ddim20 --use_ddim True`` (``compute_dire.sh:6``). Unset flags keep
  ``script_util.py:43-65`` (``num_heads=4``, ``use_new_attention_order=False``, ``channel_mult`` from the
  image size, ``script_util.py:148-152``: 1,1,2,2,4,4), ``rescale_timesteps=False``; ``clip_denoised=True``
  (``compute_dire.py:155``), ``real_step=0`` (all 20 steps, ``compute_dire.py:160``).
- the checkpoint is a bare state dict loaded with ``load_state_dict`` (``compute_dire.py:53``), then
  ``convert_to_fp16`` when ``use_fp16`` (``compute_dire.py:56-57``).
- the image (``image_datasets.py:165-186``, ``load_data_for_reverse``: no random crop, no flip): RGB, halved
  with BOX while its shorter side is >= 512, resized with BICUBIC so the shorter side is 256 (each side
  ``round(side * 256 / shorter)``), centre crop 256 at ``(n - 256) // 2`` (``center_crop_arr``,
  ``image_datasets.py:233-246``), then ``x / 127.5 - 1`` in float32; ``reshape_image``
  (``compute_dire.py:31-39``) is then a no-op on the square 256 input.
- inversion ``ddim_reverse_sample_loop`` (``compute_dire.py:85-95``; eta 0, ``gaussian_diffusion.py:587-623,
  756-805``), then ``ddim_sample_loop`` from that latent (``compute_dire.py:96-104``,
  ``gaussian_diffusion.py:537-585``); the learned-sigma half of the output is split off and unused by DDIM
  (``gaussian_diffusion.py:268-271``).
- the map: ``abs(x - recon) * 255 / 2``, clamped to 0..255, cast to uint8 (truncation), HWC RGB
  (``compute_dire.py:106,115-117``), written with ``cv2.imwrite`` under the source's file name
  (``compute_dire.py:137-142``): PNG (lossless) for a PNG source, JPEG at OpenCV's default quality 95 for a
  JPEG source. The map returned here goes through the same round trip: lossless for any source but a
  ``.jpg``/``.jpeg`` file, whose map is encoded at JPEG quality 95 with 4:2:0 chroma (OpenCV's defaults,
  through Pillow's libjpeg) and decoded again, so the classifier sees what it would read from their folder.

Precision: float32 on CPU; on CUDA the torso convolutions run in float16 when the config says ``use_fp16``,
as the authors run it. Which one ran is in :attr:`DireMapper.settings`, and so in the run key.

A JSON file beside the weights (``<weights stem>.json``) may override any key of :data:`ADM_DEFAULTS` (a
scaled-down ADM for tests, another ADM checkpoint).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spotfake.harness.errors import SpotfakeError

from .adm_unet import ADMUNet
from .arch_config import architecture_config
from .checkpoints import load_checkpoint, load_into, state_dict_from
from .ddim import Schedule, ddim_schedule

ARCH = "adm"
PUBLISHED = (
    "openaipublic.blob.core.windows.net/diffusion/jul-2021/256x256_diffusion_uncond.pt "
    "(github.com/openai/guided-diffusion README)"
)
ADM_DEFAULTS: dict[str, Any] = {
    "arch": ARCH,
    "image_size": 256,
    "num_channels": 256,
    "num_res_blocks": 2,
    "channel_mult": None,
    "attention_resolutions": [32, 16, 8],
    "num_heads": 4,
    "num_head_channels": 64,
    "num_heads_upsample": -1,
    "use_new_attention_order": False,
    "use_scale_shift_norm": True,
    "resblock_updown": True,
    "learn_sigma": True,
    "dropout": 0.1,
    "use_fp16": True,
    "diffusion_steps": 1000,
    "noise_schedule": "linear",
    "timestep_respacing": "ddim20",
}
"""``compute_dire.sh``'s flags for ``256x256_diffusion_uncond.pt`` over ``script_util.py``'s defaults."""


def center_crop_arr(image: Any, size: int) -> np.ndarray:
    """``image`` (RGB PIL) as guided-diffusion's loader crops it: BOX halving while the shorter side is at
    least ``2 * size``, BICUBIC resize of the shorter side to ``size``, centre crop; uint8 (size, size, 3)."""
    from PIL import Image

    while min(image.size) >= 2 * size:
        image = image.resize(tuple(side // 2 for side in image.size), resample=Image.Resampling.BOX)
    scale = size / min(image.size)
    image = image.resize(tuple(round(side * scale) for side in image.size), resample=Image.Resampling.BICUBIC)
    arr = np.asarray(image)
    top, left = (arr.shape[0] - size) // 2, (arr.shape[1] - size) // 2
    return arr[top : top + size, left : left + size]


def dire_map(x: torch.Tensor, recon: torch.Tensor) -> np.ndarray:
    """The saved DIRE map of one image: ``|x - recon| * 255 / 2`` clamped, truncated to uint8, HWC."""
    dire = (torch.abs(x - recon) * 255.0 / 2.0).clamp(0, 255).to(torch.uint8)
    return dire[0].permute(1, 2, 0).contiguous().cpu().numpy()


class DireMapper:
    """Image -> DIRE map (a PIL image of ``image_size`` squared), with the settings that shape it."""

    def __init__(
        self, unet: ADMUNet, schedule: Schedule, config: dict[str, Any], device: torch.device
    ) -> None:
        self.unet = unet
        self.schedule = schedule
        self.size = int(config["image_size"])
        self.device = device
        half = bool(config["use_fp16"]) and device.type == "cuda"
        if half:
            unet.half_torso()
        self.settings: dict[str, Any] = {
            "model": {k: v for k, v in config.items() if k not in ("arch", "dropout")},
            "steps": len(schedule.timesteps),
            "eta": 0.0,
            "clip_denoised": True,
            "precision": "float16 torso convolutions (use_fp16)" if half else "float32",
            "input": f"BOX halving, BICUBIC shorter side {self.size}, centre crop {self.size}, x / 127.5 - 1",
            "map": "abs(x - recon) * 255 / 2, clamped, uint8; JPEG q95 4:2:0 round trip for .jpg/.jpeg sources",
        }

    def __call__(self, image: Any, source_name: str = "") -> Any:
        """The DIRE map of one RGB PIL image, as the authors' script saves it under ``source_name``."""
        from PIL import Image

        arr = center_crop_arr(image.convert("RGB"), self.size).astype(np.float32) / 127.5 - 1
        x = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))[None].to(self.device)
        with torch.inference_mode():
            recon = self.schedule.reconstruct(self.unet, self.schedule.invert(self.unet, x))
        made = Image.fromarray(dire_map(x, recon))
        return jpeg_round_trip(made) if Path(source_name).suffix.lower() in (".jpg", ".jpeg") else made


def jpeg_round_trip(image: Any) -> Any:
    """``image`` encoded as ``cv2.imwrite`` writes a ``.jpg`` by default (quality 95, 4:2:0) and decoded."""
    from PIL import Image

    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95, subsampling="4:2:0")
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")


def build_unet(weight_file: Path, config: dict[str, Any]) -> ADMUNet:
    """The ADM of ``config`` with the weights of ``weight_file``, loaded strictly. The network is built on
    the meta device and takes the file's tensors (as float32, what loading into a float32 network gives),
    so the 2.2 GB of the released ADM are held once, not also as random initial weights."""
    try:
        with torch.device("meta"):
            unet = ADMUNet(config)
    except (TypeError, ValueError) as exc:
        raise SpotfakeError(
            f"{weight_file}: ADM config cannot be built ({exc}); check {weight_file.with_suffix('.json')}"
        ) from None
    obj, _ = load_checkpoint(weight_file)
    state = state_dict_from(obj, weight_file, containers=(), strip=())
    state = {key: value.to(torch.float32) for key, value in state.items()}
    load_into(unet, state, weight_file, "guided-diffusion ADM", assign=True)
    return unet.eval()


def build_mapper(weight_file: Path, device: str) -> DireMapper:
    """The DIRE pre-processor from the ADM weights (a :data:`~.map_detectors.MapperFactory`); the config is
    :data:`ADM_DEFAULTS` updated from ``<weights stem>.json`` when that file exists."""
    config = architecture_config(weight_file, ADM_DEFAULTS, ARCH)
    where = torch.device(device)
    schedule = ddim_schedule(
        int(config["diffusion_steps"]), str(config["noise_schedule"]), str(config["timestep_respacing"])
    )
    return DireMapper(build_unet(weight_file, config).to(where), schedule, config, where)
