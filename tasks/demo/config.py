"""What a demo build makes: image counts per split and family, and each family's training budget."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TrainConfig:
    """How long and how wide one family trains."""

    steps: int
    batch_size: int = 64
    lr: float = 2e-4
    width: int = 128
    """Channel width of the family's widest layer (each family documents its own use)."""
    sample_steps: int = 0
    """Diffusion timesteps (training schedule and sampling chain); unused by the other families."""

    def as_dict(self) -> dict[str, float]:
        return {
            "steps": self.steps,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "width": self.width,
            "sample_steps": self.sample_steps,
        }


@dataclass
class BuildConfig:
    """Counts and budgets of one build; :func:`full` is the committed set, :func:`small` a smoke build."""

    real: dict[str, int]
    """Real crops per split."""
    fakes: dict[str, dict[str, int]]
    """Family -> split -> number of fakes. A family with no training fakes is held out."""
    training: dict[str, TrainConfig]
    """Family -> its training budget."""
    generator_crops: int = 4000
    """Real training-band crops (with mirror flips) that the generators learn from."""
    face_share: float = 0.1
    """Share of each split's real crops taken from the LFW faces (each face used once)."""
    name: str = "full"
    extra: dict[str, str] = field(default_factory=dict)

    def held_out(self) -> list[str]:
        """Families whose fakes appear only in the test split."""
        return [family for family, counts in self.fakes.items() if counts.get("train", 0) == 0]

    def describe(self) -> dict[str, object]:
        return {
            "name": self.name,
            "real": dict(self.real),
            "fakes": {family: dict(counts) for family, counts in self.fakes.items()},
            "held_out": self.held_out(),
            "training": {family: cfg.as_dict() for family, cfg in self.training.items()},
            "generator_crops": self.generator_crops,
            "face_share": self.face_share,
        }


def full() -> BuildConfig:
    """The committed demo set: 1,200 training and 480 test images."""
    return BuildConfig(
        real={"train": 600, "test": 240},
        fakes={
            "dcgan": {"train": 300, "test": 80},
            "vae": {"train": 300, "test": 80},
            "ddpm": {"train": 0, "test": 80},
        },
        training={
            "dcgan": TrainConfig(steps=1000, batch_size=64, lr=4e-4, width=64),
            "vae": TrainConfig(steps=1200, batch_size=32, lr=1e-3, width=64),
            "ddpm": TrainConfig(steps=700, batch_size=32, lr=1e-3, width=16, sample_steps=50),
        },
        generator_crops=4000,
        name="full",
    )


def small() -> BuildConfig:
    """A seconds-long build with the same structure, for tests and smoke checks (not the committed set)."""
    return BuildConfig(
        real={"train": 24, "test": 12},
        fakes={
            "dcgan": {"train": 12, "test": 4},
            "vae": {"train": 12, "test": 4},
            "ddpm": {"train": 0, "test": 4},
        },
        training={
            "dcgan": TrainConfig(steps=2, batch_size=8, lr=4e-4, width=16),
            "vae": TrainConfig(steps=2, batch_size=8, lr=1e-3, width=16),
            "ddpm": TrainConfig(steps=2, batch_size=8, lr=1e-3, width=8, sample_steps=4),
        },
        generator_crops=64,
        name="small",
    )


PROFILES = {"full": full, "small": small}
