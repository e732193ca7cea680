"""The small generative models trained here on the real training crops, one module per family.

Every family module exposes ``train(images, labels, n_classes, config, generator) -> torch.nn.Module`` and
``sample(model, labels, config, generator) -> uint8 array (N, 64, 64, 3)``, where ``generator`` is the
seeded ``torch.Generator`` of the build. Each is conditioned on the source
photo of its training crops, so a fake has a source and a content category like a real crop.
"""

from __future__ import annotations

FAMILIES: dict[str, str] = {
    "dcgan": "spotfake.tasks.demo.generators.dcgan",
    "vae": "spotfake.tasks.demo.generators.vae",
    "ddpm": "spotfake.tasks.demo.generators.ddpm",
}
"""Family name -> module implementing it."""
