"""What kind of model answered, declared once: the one list of kinds and the rule that reconciles a
registry row's ``kind`` with a class's ``kind`` attribute.

A kind decides how a run is scored: only an ``lmm`` explains (explanation metrics apply); an ``expert``
gives p(fake); a ``baseline`` is a trivial reference. Every other place (the results schema, the CLI's
``--model-kind`` choices, submissions, the board) derives its list from :data:`MODEL_KINDS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, get_args

from spotfake.harness.errors import SpotfakeError

if TYPE_CHECKING:
    from spotfake.harness.registry import Entry

ModelKind = Literal["lmm", "expert", "baseline"]
MODEL_KINDS: tuple[str, ...] = get_args(ModelKind)
KIND_LABELS: dict[str, str] = {"lmm": "LMM", "expert": "expert classifier", "baseline": "baseline"}
"""How the board names each kind."""


def explains(kind: str) -> bool:
    """Only LMMs explain: an expert's or a baseline's fixed sentence gets no explanation metric."""
    return kind == "lmm"


def check_kind(value: object, where: str) -> ModelKind:
    """``value`` if it is a model kind, else one line naming ``where`` and the valid kinds."""
    if value not in MODEL_KINDS:
        raise SpotfakeError(f"{where}: model kind {value!r} is not one of {', '.join(MODEL_KINDS)}")
    return value  # type: ignore[return-value]


def declared_kind(obj: object) -> str | None:
    """The ``kind`` a model class (or factory) declares as an attribute, or None when it declares none."""
    kind = getattr(obj, "kind", None)
    return kind if isinstance(kind, str) else None


def reconcile_kind(name: str, registered: object, declared: str | None) -> ModelKind:
    """The one kind of model ``name``: the registry row's (``registered``) and the class's (``declared``)
    must agree where both are given; at least one must be."""
    if registered is not None and declared is not None and registered != declared:
        raise SpotfakeError(
            f"model {name!r} is registered as kind {registered!r} but its class declares kind {declared!r}; "
            "declare the kind once (in the registration or on the class)"
        )
    kind = registered if registered is not None else declared
    if kind is None:
        raise SpotfakeError(
            f"model {name!r} declares no kind: register it with kind=... ({', '.join(MODEL_KINDS)}) "
            "or give its class a kind attribute"
        )
    return check_kind(kind, f"model {name!r}")


def check_model_entry(entry: Entry[Any]) -> None:
    """The model registry's check: a row's ``kind`` and its class's must agree, and the agreed kind is
    written into the row. A lazy ``"module:attr"`` row is checked when registered (its ``kind``, if given,
    must be valid) and again, against the class, when the class is first imported."""
    registered = entry.meta.get("kind")
    if isinstance(entry.target, str):
        if registered is not None:
            check_kind(registered, f"model {entry.name!r}")
        return
    entry.meta["kind"] = reconcile_kind(entry.name, registered, declared_kind(entry.target))
