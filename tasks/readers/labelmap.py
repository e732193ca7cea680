"""Declared label maps: each task says which raw value means real and which means fake, and reads labels only
through that declaration.

Datasets disagree on conventions (FakeClue 0 = fake, FakeBench ``authenticity`` 0 = fake, So-Fake-OOD v1
0 = synthetic but v2 0 = real, folder sets ``0_real``/``1_fake``), and a reader that guesses scores inverted
labels without a sound. So a task declares its map in its YAML as the ``labels`` argument, e.g.
``"0_real:real|1_fake:fake"`` (raw value, colon, ``real``, ``fake`` or ``drop``; entries joined by ``|``),
and ``add_labels`` extends it (a folder the owners added later, such as B-Free's FLUX images in Synthbuster).
Raw values are compared as text, case-folded, so ``0`` matches the integer 0 and ``Real`` matches ``real``.

A value outside the map, a folder whose name the map does not hold, a ``ClassLabel`` whose names contradict
the map, and two sources of truth that disagree (a JSON label and its folder) are all refused with one line
naming the file, never mapped by a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import TaskSpec
from spotfake.harness.types import Label

Meaning = Literal["real", "fake", "drop"]
MEANINGS: tuple[Meaning, ...] = ("real", "fake", "drop")
LABEL_ARGS = ("labels", "add_labels")
"""The task arguments every reader with a declared map accepts."""

NAME_MEANS: Mapping[str, Label] = {
    "real": "real",
    "nature": "real",
    "authentic": "real",
    "0_real": "real",
    "fake": "fake",
    "ai": "fake",
    "synthetic": "fake",
    "full_synthetic": "fake",
    "generated": "fake",
    "tampered": "fake",
    "1_fake": "fake",
}
"""What a class name says by itself (a ``ClassLabel`` name); names not listed here say nothing."""


def _key(value: Any) -> str:
    if isinstance(value, bool):
        return str(int(value))
    return str(value).strip().casefold()


@dataclass(frozen=True)
class LabelMap:
    """A task's declared map from raw values (folder names, column values) to ``real``/``fake``/``drop``."""

    task: str
    entries: tuple[tuple[str, Meaning], ...]
    declared: str
    """The declaration as text (``raw:meaning|...``), quoted in every refusal and kept in the notes."""

    @classmethod
    def parse(cls, task: str, text: str, *, where: str = "labels", fake_only: bool = False) -> LabelMap:
        """A map from its ``raw:meaning|raw:meaning`` text; anything malformed is one line. A map must name a
        real and a fake value, or only fake values for a set published without reals (``fake_only``)."""
        entries: dict[str, Meaning] = {}
        for part in str(text).split("|"):
            raw, sep, meaning = part.strip().rpartition(":")
            meaning = meaning.strip().lower()
            if not sep or not raw.strip() or meaning not in MEANINGS:
                raise SpotfakeError(
                    f"task {task}: {where} entry {part.strip()!r} is not RAW:real, RAW:fake or RAW:drop "
                    f"(entries joined by '|', e.g. '0_real:real|1_fake:fake')"
                )
            key = _key(raw)
            if key in entries and entries[key] != meaning:
                raise SpotfakeError(
                    f"task {task}: {where} maps {raw.strip()!r} twice ({entries[key]}, {meaning})"
                )
            entries[key] = meaning
        if fake_only and "real" in entries.values():
            raise SpotfakeError(
                f"task {task}: {where} {text!r} declares a real value, but the set has no reals (fakes only)"
            )
        if "fake" not in entries.values() or ("real" not in entries.values() and not fake_only):
            needed = "one fake value (the set has no reals)" if fake_only else "one real and one fake value"
            raise SpotfakeError(f"task {task}: {where} {text!r} must name at least {needed}")
        return cls(task, tuple(entries.items()), "|".join(f"{k}:{v}" for k, v in entries.items()))

    @cached_property
    def mapping(self) -> dict[str, Meaning]:
        """The entries as a dict, built once (every sample's label is looked up here)."""
        return dict(self.entries)

    def values(self, meaning: Meaning) -> list[str]:
        """The raw values (case-folded) declared with ``meaning``, in declaration order."""
        return [raw for raw, m in self.entries if m == meaning]

    def knows(self, raw: Any) -> bool:
        return _key(raw) in self.mapping

    def meaning(self, raw: Any, *, source: object, where: str) -> Meaning:
        """What ``raw`` means under the declaration; a value it does not hold is refused in one line."""
        found = self.mapping.get(_key(raw))
        if found is None:
            raise SpotfakeError(
                f"{source} {where}: label {raw!r} is not in the declared label map of task {self.task} "
                f"({self.declared}); refused rather than guessed (declare it with --task-args add_labels=...)"
            )
        return found

    def label(self, raw: Any, *, source: object, where: str) -> Label | None:
        """``real``/``fake`` for ``raw``, None when the declaration drops it."""
        meaning = self.meaning(raw, source=source, where=where)
        return None if meaning == "drop" else meaning

    def check_names(self, names: Iterable[str], *, folder: object, what: str = "folder") -> None:
        """Every name found (a sub-folder of ``folder``) must be declared; the first that is not is one line."""
        for name in names:
            if not self.knows(name):
                raise SpotfakeError(
                    f"task {self.task}: unexpected {what} {name!r} in {folder}: not in the declared label map "
                    f"({self.declared}); refused rather than guessed (declare it with --task-args add_labels=...)"
                )

    def check_class_names(self, names: Sequence[str], *, source: object, column: str = "label") -> None:
        """A ``ClassLabel``'s names (index -> name) must not contradict the map: index i named ``real`` must
        be declared real. Names that say nothing by themselves (:data:`NAME_MEANS`) are not checked."""
        for index, name in enumerate(names):
            said = NAME_MEANS.get(_key(name))
            declared = self.mapping.get(str(index))
            if said is None or declared is None or declared == "drop":
                continue
            if said != declared:
                raise SpotfakeError(
                    f"{source}: column {column!r} names class {index} {name!r}, but task {self.task} declares "
                    f"{index} = {declared} ({self.declared}); refused rather than scoring inverted labels"
                )


def label_map(spec: TaskSpec, args: Mapping[str, Any], *, fake_only: bool = False) -> LabelMap:
    """The task's declared map: its ``labels`` argument, extended by ``add_labels`` (``fake_only`` for a set
    published without reals: every value must mean fake or drop)."""
    text = args.get("labels")
    if not text:
        raise SpotfakeError(
            f"{spec.source or spec.name}: task {spec.name} declares no label map (args: labels)"
        )
    declared = LabelMap.parse(spec.name, str(text), fake_only=fake_only)
    extra = args.get("add_labels")
    if not extra:
        return declared
    return LabelMap.parse(spec.name, f"{declared.declared}|{extra}", where="add_labels", fake_only=fake_only)


def agree(
    task: str, first: Label, second: Label, *, source: object, where: str, first_from: str, second_from: str
) -> Label:
    """``first`` when two sources of a sample's truth agree; one line naming both when they do not."""
    if first != second:
        raise SpotfakeError(
            f"{source} {where}: {first_from} says {first} but {second_from} says {second}; task {task} refuses "
            "to guess which is right (is the declared label map the data's own?)"
        )
    return first
