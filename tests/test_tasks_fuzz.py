"""Random bytes and random JSON shapes thrown at every annotation reader: a clean result or one SpotfakeError
line, never another exception."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import SpotfakeError
from harness.registry import import_object
from harness.task import TaskData, load_spec_file
from tasks.readers.ddvqa import METHODS
from tasks.registry import DEFINITIONS

FIELDS = [
    "image", "label", "cate", "conversations", "from", "value", "question", "answer", "image_path",
    "question_type", "id", "choices", "problems", "global", "regional", "desc", "0", "0_010_020", "5_005",
]  # fmt: skip
"""Keys the readers look for, so that random objects get past the first checks."""
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["../x.png", "/etc/passwd", "a/b.png", "image_tf_image_real_ask_fake_doc", "Yes", "A"])
)
SHAPES = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=25,
)
CONTENT = st.one_of(
    st.binary(max_size=200),
    SHAPES.map(lambda v: json.dumps(v).encode()),
    SHAPES.map(lambda v: json.dumps(v).encode("utf-16")),
    st.sampled_from([b"[" * 5000, b'{"a": 1, "a": 2}', b"9" * 5000, b"", b"\xff\xfe\x00", b"[1,]"]),
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
    derandomize=True,
)


def read(task: str, root: Path, **args: Any) -> TaskData:
    spec = load_spec_file(DEFINITIONS / f"{task}.yaml")
    return import_object(spec.reader)(spec, root, {**spec.args, **args})


def survives(task: str, place: Callable[[Path, bytes], None], content: bytes, **args: Any) -> None:
    """Put ``content`` where ``place`` says, run the reader: a result or a one-line SpotfakeError."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        place(root, content)
        try:
            data = read(task, root, **args)
        except SpotfakeError as exc:
            assert "\n" not in str(exc).strip(), str(exc)
        else:
            assert isinstance(data, TaskData)


def put(rel: str) -> Callable[[Path, bytes], None]:
    def place(root: Path, content: bytes) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)

    return place


@FUZZ
@given(CONTENT)
def test_fakeclue(content: bytes) -> None:
    survives("fakeclue", put("data_json/test.json"), content)


@FUZZ
@given(CONTENT, st.sampled_from(["true_or_false.json", "multi_choice.json", "open_ended_vqa.json"]))
def test_loki_tasks(content: bytes, name: str) -> None:
    def place(root: Path, data: bytes) -> None:
        for other in ("true_or_false.json", "multi_choice.json", "open_ended_vqa.json"):
            put(f"data_json/image/{other}")(root, data if other == name else b"[]")

    for task in ("loki", "loki-judgment", "loki-mc", "loki-explain"):
        survives(task, place, content)


@FUZZ
@given(CONTENT)
def test_ddvqa(content: bytes) -> None:
    def place(root: Path, data: bytes) -> None:
        for method in METHODS.values():
            put(f"DQ_FF++/test_set/{method}/{method}.json")(root, data)

    survives("ddvqa", place, content)
    survives("ddvqa", place, content, frame_pick="sorted")


@FUZZ
@given(CONTENT)
def test_ffpp_split_file(content: bytes) -> None:
    def place(root: Path, data: bytes) -> None:
        put("splits/test.json")(root, data)
        put("original_sequences/youtube/c23/images/000/0000.png")(root, b"x")
        put("manipulated_sequences/Deepfakes/c23/images/000_001/0000.png")(root, b"x")

    survives("ffpp", place, content, methods="Deepfakes", cache_dir=tempfile.gettempdir())


@FUZZ
@given(CONTENT | st.text(max_size=200).map(lambda t: ("src,qf\n" + t).encode()))
def test_dmimage_operations_csv(content: bytes) -> None:
    def place(root: Path, data: bytes) -> None:
        put("operations.csv")(root, data)
        put("real_ucid/a.png")(root, b"x")
        put("biggan_256/b.png")(root, b"x")

    survives("dmimage", place, content, cache_dir=tempfile.gettempdir())
