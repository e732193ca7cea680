"""Whatever a model returns, the record writer and every later reader survive it."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from pathlib import Path

from conftest import TOY_TASK
from hypothesis import given, settings
from hypothesis import strategies as st

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item, Model
from spotfake.harness.record_store import read_tolerant
from spotfake.harness.results import read_records
from spotfake.harness.runner import RunOptions, run
from spotfake.harness.scoring import ScoringOptions
from spotfake.harness.task import load_task
from spotfake.harness.types import Response

ODD = [
    Response(text="fake \ud800 with a lone surrogate"),
    Response(score=math.nan),
    Response(score=5.0),
    Response(text="real", latency_s=math.inf),
    Response(error="boom \udfff"),
]


class Odd(Model):
    kind = "lmm"
    needs_images = False

    def __init__(self) -> None:
        self.name = "odd"

    def predict(self, items: Sequence[Item]) -> list[Response]:
        return [ODD[int(i.sample.id[1:]) % len(ODD)] for i in items]


def test_odd_responses_become_storable_records(tmp_path: Path) -> None:
    task = load_task(str(TOY_TASK), task_args={"n": 5})
    options = RunOptions(output_dir=tmp_path, progress=False, scoring=ScoringOptions(n_bootstrap=0))
    outcome = run(Odd(), {}, task, options)
    records = {r.id: r for r in read_records(outcome.folder / "samples.jsonl")}
    assert records["s00000"].response == "fake \ufffd with a lone surrogate"
    assert "returned score nan, not p(fake) in [0, 1]" in (records["s00001"].error or "")
    assert "returned score 5.0" in (records["s00002"].error or "") and records["s00002"].score is None
    assert records["s00003"].latency_s is None and records["s00003"].verdict == "real"
    assert records["s00004"].error == "boom \ufffd"
    again = Odd()
    assert run(again, {}, task, options).n_reused == 2  # the three error records are retried


@settings(derandomize=True, database=None, deadline=None, max_examples=150)
@given(
    st.lists(
        st.binary(max_size=60) | st.sampled_from([b'{"id": "a"}', b'{"id": "b", "score": 0.5}']), max_size=6
    )
)
def test_fuzz_records_files_are_repaired_or_refused_in_one_line(lines: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "samples.jsonl"
        path.write_bytes(b"\n".join(lines))
        try:
            records = read_tolerant(path)
        except SpotfakeError as exc:
            assert "\n" not in str(exc) and str(path) in str(exc)
            return
        assert all(r.id for r in records)
        again = read_tolerant(path)  # what is left after a repair reads cleanly, the same records
        assert [r.to_json() for r in again] == [r.to_json() for r in records]
