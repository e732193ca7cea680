"""The expert detectors' registry rows: where each class lives and its card for `spotfake list models`
(paper, year, licence of the weights, the input size rule). Plain data: nothing heavy is imported.

The kind (``expert``) is declared here, once, for every row; the classes declare none. Add a detector by
adding one :class:`ExpertRow` (docs/experts.md, "Writing an adapter").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExpertRow:
    """One expert: registry name, ``"module:Class"`` target, one-line description and its card."""

    name: str
    target: str
    description: str
    paper: str
    """Authors and venue, e.g. ``Ojha et al., CVPR``."""
    year: int
    licence: str
    """The licence of the published weights (the code's when the authors state no other)."""
    input: str
    """What the network sees, e.g. ``centre crop 224 (no resize)``."""

    def card(self) -> dict[str, object]:
        """The registry metadata `spotfake list models` prints."""
        return {"paper": self.paper, "year": self.year, "licence": self.licence, "input": self.input}


_E = "spotfake.adapters.experts"

EXPERTS: list[ExpertRow] = [
    ExpertRow(
        "cnnspot",
        f"{_E}.cnnspot:CNNSpot",
        "CNNSpot: ResNet-50 real/fake classifier (Wang et al. 2020)",
        "Wang et al., CVPR",
        2020,
        "CC BY-NC-SA 4.0 (non-commercial)",
        "full image (crop=224: centre crop), ImageNet norm",
    ),
    ExpertRow(
        "univfd",
        f"{_E}.univfd:UnivFD",
        "UnivFD: frozen CLIP ViT-L/14 + linear head (Ojha et al. 2023)",
        "Ojha et al., CVPR",
        2023,
        "MIT",
        "centre crop 224 (no resize), CLIP norm",
    ),
    ExpertRow(
        "npr",
        f"{_E}.npr:NPR",
        "NPR: neighbouring pixel relationships ResNet (Tan et al. 2024)",
        "Tan et al., CVPR",
        2024,
        "no licence file (ask the authors)",
        "square resize 256 bilinear, ImageNet norm",
    ),
    ExpertRow(
        "linear-probe",
        "spotfake.adapters.demo_models:LinearProbe",
        "frozen EfficientNet-Lite0 + logistic head, trained on demo",
        "spotfake demo (UnivFD's recipe)",
        2025,
        "Apache-2.0 (trained here)",
        "shorter side 256 bilinear, centre crop 224, (x-127)/128",
    ),
    ExpertRow(
        "npr-demo",
        "spotfake.adapters.demo_models:NPRDemo",
        "small NPR-style CNN trained on the demo suite",
        "spotfake demo (NPR's idea)",
        2025,
        "Apache-2.0 (trained here)",
        "full image (64x64 demo images), ImageNet norm",
    ),
    ExpertRow(
        "corvi2023",
        f"{_E}.grip:Corvi2023",
        "Corvi2023: ResNet-50 without stem down-sampling, GRIP folder (Corvi et al. 2023)",
        "Corvi et al., ICASSP",
        2023,
        "Apache-2.0 (GRIP ClipBased repository)",
        "full image (no resize, no crop), ImageNet norm",
    ),
    ExpertRow(
        "aligned-forensics",
        f"{_E}.grip:AlignedForensics",
        "AlignedForensics: ResNet-50 nodown trained on aligned LDM data (Rajan et al. 2025)",
        "Rajan et al., ICLR",
        2025,
        "Apache-2.0",
        "full image (no resize, no crop), ImageNet norm",
    ),
    ExpertRow(
        "clipdet",
        f"{_E}.grip:ClipDet",
        "ClipDet: open_clip ViT-L/14 CommonPool + linear head, GRIP folder (Cozzolino et al. 2024)",
        "Cozzolino et al., CVPRW",
        2024,
        "Apache-2.0",
        "shorter side 224 bicubic, centre crop 224, CLIP norm",
    ),
    ExpertRow(
        "safe",
        f"{_E}.safe:SAFE",
        "SAFE: ResNet stages on the bior1.3 DWT HH band (Li et al. 2025)",
        "Li et al., KDD",
        2025,
        "Apache-2.0",
        "centre crop 256 (no resize, zero-padded), no norm",
    ),
    ExpertRow(
        "freqnet",
        f"{_E}.freqnet:FreqNet",
        "FreqNet: frequency-space ResNet stages (Tan et al. 2024)",
        "Tan et al., AAAI",
        2024,
        "no licence file (ask the authors); AIGIBench's retrained weights",
        "square resize 256 bilinear (AIGIBench protocol), ImageNet norm",
    ),
    ExpertRow(
        "drct-convnext",
        f"{_E}.drct:DRCTConvNeXt",
        "DRCT: ConvNeXt-B embedding + 2-way head, contrastive on reconstructions (Chen et al. 2024)",
        "Chen et al., ICML",
        2024,
        "no licence file (ask the authors)",
        "pad-if-needed + centre crop 224 (no resize), ImageNet norm",
    ),
    ExpertRow(
        "drct-clip",
        f"{_E}.drct:DRCTClip",
        "DRCT: OpenAI CLIP ViT-L/14 (whole model in the checkpoint) + 2-layer head (Chen et al. 2024)",
        "Chen et al., ICML",
        2024,
        "no licence file (ask the authors); CLIP weights MIT",
        "pad-if-needed + centre crop 224 (no resize), ImageNet norm",
    ),
    ExpertRow(
        "commfor",
        f"{_E}.commfor:CommunityForensics",
        "Community Forensics: timm ViT-S/16 trained on thousands of generators (Park & Owens 2025)",
        "Park & Owens, CVPR",
        2025,
        "MIT",
        "shorter side 440 + centre crop 384 (224 model: 256 + 224), ImageNet norm",
    ),
    ExpertRow(
        "bfree",
        f"{_E}.bfree:BFree",
        "B-Free: DINOv2 ViT-B/14 with registers, five 504 crops in embedding space (Guillaro et al. 2025)",
        "Guillaro et al., CVPR",
        2025,
        "GRIP licence: nonprofit research use only",
        "no resize; five 504x504 crops of the patch embedding (tiled when smaller), norm from config.yaml",
    ),
    ExpertRow(
        "lgrad",
        f"{_E}.map_detectors:LGrad",
        "LGrad: ResNet-50 on StyleGAN-discriminator gradient maps (Tan et al. 2023)",
        "Tan et al., CVPR",
        2023,
        "no licence file (ask the authors)",
        "gradient maps: precomputed (maps=DIR) or computed here from the image resized to 256x256 "
        "(preprocessor=FILE); full map, ImageNet norm",
    ),
    ExpertRow(
        "dire",
        f"{_E}.map_detectors:DIRE",
        "DIRE: ResNet-50 on diffusion reconstruction error maps (Wang et al. 2023)",
        "Wang et al., ICCV",
        2023,
        "no licence file (ask the authors)",
        "DIRE maps: precomputed (maps=DIR) or computed here by the ADM 256x256 with DDIM 20 steps "
        "(preprocessor=FILE); shorter side 256 + centre crop 224, ImageNet norm",
    ),
    ExpertRow(
        "c2p-clip",
        f"{_E}.c2p_clip:C2PCLIP",
        "C2P-CLIP: fine-tuned CLIP ViT-L/14 + linear head on normalised embeddings (Tan et al. 2025)",
        "Tan et al., AAAI",
        2025,
        "no licence file (ask the authors)",
        "shorter side 224 bilinear, centre crop 224, CLIP norm",
    ),
    ExpertRow(
        "rine",
        f"{_E}.rine:Rine",
        "RINE: CLIP ViT-L/14 intermediate-block CLS tokens, learned block weights (Koutlis & Papadopoulos 2024)",
        "Koutlis & Papadopoulos, ECCV",
        2024,
        "Apache-2.0",
        "centre crop 224 (no resize), CLIP norm",
    ),
    ExpertRow(
        "effort",
        f"{_E}.effort:Effort",
        "Effort: CLIP ViT-L/14 with SVD-residual attention, 2-way head (Yan et al. 2025)",
        "Yan et al., ICML",
        2025,
        "CC BY-NC 4.0 (non-commercial)",
        "square resize 224 (cv2-style bicubic), CLIP norm",
    ),
    ExpertRow(
        "aide",
        f"{_E}.aide:AIDE",
        "AIDE: DCT-graded patches through SRM + ResNet-50s, plus a frozen CLIP ConvNeXt-XXL (Yan et al. 2025)",
        "Yan et al., ICLR",
        2025,
        "MIT",
        "whole image and 4 DCT-selected 32x32 patches, each resized to 256 (no antialias), ImageNet norm",
    ),
    ExpertRow(
        "dda",
        f"{_E}.dda:DDA",
        "DDA: DINOv2 ViT-L/14 + LoRA rank 8 + linear head, dual data alignment (Chen et al. 2025)",
        "Chen et al., NeurIPS",
        2025,
        "Apache-2.0",
        "centre crop 336 (no resize), CLIP norm",
    ),
    ExpertRow(
        "d3",
        f"{_E}.d3:D3",
        "D3: frozen CLIP ViT-L/14 on the image and its patch-shuffled copy, attention head (Yang et al. 2025)",
        "Yang et al., CVPR",
        2025,
        "no licence file (ask the authors)",
        "square resize 224, CLIP norm; 14x14 tiles shuffled per sample (seed=)",
    ),
    ExpertRow(
        "fatformer",
        f"{_E}.fatformer:FatFormer",
        "FatFormer: CLIP ViT-L/14 with forgery-aware (image + wavelet) adapters and real/fake prompt alignment "
        "(Liu et al. 2024)",
        "Liu et al., CVPR",
        2024,
        "Apache-2.0",
        "square resize 256, centre crop 224, ImageNet norm",
    ),
]
