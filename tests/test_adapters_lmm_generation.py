"""Shared LMM helpers: argument conversion, device/dtype choice, greedy settings, OOM halving, weights hash."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch

from spotfake.adapters.batching import HalvingBatcher
from spotfake.adapters.devices import choose_device, choose_dtype, is_oom
from spotfake.adapters.generation import GreedySettings, load_pretrained, looks_local, new_token_counts
from spotfake.adapters.model_args import choice_arg, float_arg, int_arg
from spotfake.adapters.weights_hash import hash_weights, weights_hash_for
from spotfake.harness.errors import SpotfakeError


def test_model_args_are_converted_with_clear_errors() -> None:
    assert int_arg("m", "batch_size", "16", minimum=1) == 16
    assert float_arg("m", "timeout", " 2.5 ") == 2.5
    assert choice_arg("m", "mode", "Score", ("generate", "score")) == "score"
    with pytest.raises(SpotfakeError, match=r"m: --model-args batch_size='1.5': expected an integer"):
        int_arg("m", "batch_size", "1.5")
    with pytest.raises(SpotfakeError, match="must be at least 1"):
        int_arg("m", "batch_size", "0", minimum=1)
    with pytest.raises(SpotfakeError, match="expected a finite number"):
        float_arg("m", "timeout", "nan")
    with pytest.raises(SpotfakeError, match="expected one of generate, score"):
        choice_arg("m", "mode", "vote", ("generate", "score"))


def test_device_and_dtype_choice() -> None:
    assert choose_device("cpu").type == "cpu"
    assert choose_dtype("auto", torch.device("cpu")) == torch.float32
    assert choose_dtype("bf16", torch.device("cpu")) == torch.bfloat16
    assert choose_dtype("float16", torch.device("cpu")) == torch.float16
    with pytest.raises(SpotfakeError, match="dtype='fp8'"):
        choose_dtype("fp8", torch.device("cpu"))
    with pytest.raises(SpotfakeError, match="device='gpu0'"):
        choose_device("gpu0")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the machines without CUDA")
def test_without_cuda_auto_is_cpu_and_cuda_is_refused() -> None:
    mps = getattr(torch.backends, "mps", None)
    if mps is None or not mps.is_available():
        assert choose_device(None).type == "cpu"
    with pytest.raises(SpotfakeError, match="CUDA is not available"):
        choose_device("cuda")


def test_auto_device_under_torchrun_is_this_ranks_card(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert choose_device("auto") == torch.device("cuda", 3)
    monkeypatch.setenv("LOCAL_RANK", "5")  # more ranks than visible cards on this node: wrap around
    assert choose_device(None) == torch.device("cuda", 1)
    monkeypatch.delenv("LOCAL_RANK")
    monkeypatch.delenv("RANK", raising=False)
    assert choose_device(None) == torch.device("cuda", 0)


def test_greedy_settings_switch_off_a_checkpoints_sampling() -> None:
    from transformers import GenerationConfig

    class Stub:
        generation_config = GenerationConfig(do_sample=True, temperature=0.9, top_p=0.8, max_new_tokens=20)

    config = GreedySettings(256).generation_config(Stub(), None)
    assert (config.do_sample, config.num_beams, config.max_new_tokens) == (False, 1, 256)
    assert config.temperature is None and config.top_p is None
    assert Stub.generation_config.do_sample is True  # the model's own config is left alone


def test_new_tokens_are_counted_up_to_the_first_eos() -> None:
    rows = torch.tensor([[5, 2, 0, 0], [5, 6, 7, 8], [2, 0, 0, 0]])
    assert new_token_counts(rows, [2]) == [2, 4, 1]
    assert new_token_counts(rows, []) == [4, 4, 4]


def test_out_of_memory_halves_the_failing_batch_and_keeps_the_size() -> None:
    seen: list[list[int]] = []

    def square(chunk: Sequence[int]) -> list[int]:
        seen.append(list(chunk))
        if len(chunk) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.00 GiB")
        return [x * x for x in chunk]

    batcher = HalvingBatcher(8)
    assert batcher.run(list(range(7)), square) == [x * x for x in range(7)]
    assert [len(c) for c in seen] == [7, 3, 1, 1, 1, 1, 1, 1, 1]  # 7 -> 3 -> 1
    assert batcher.current == 1
    assert batcher.run([9, 10], square) == [81, 100]  # the smaller size is kept
    assert seen[-2:] == [[9], [10]]


def test_other_errors_and_a_single_item_out_of_memory_propagate() -> None:
    def broken(chunk: Sequence[int]) -> list[int]:
        raise ValueError("not memory")

    with pytest.raises(ValueError):
        HalvingBatcher(4).run([1, 2, 3], broken)

    def always_oom(chunk: Sequence[int]) -> list[int]:
        raise RuntimeError("MPS backend out of memory")

    with pytest.raises(RuntimeError, match="out of memory"):
        HalvingBatcher(4).run([1, 2, 3], always_oom)
    assert is_oom(RuntimeError("CUDA error: out of memory")) and not is_oom(ValueError("out of memory"))


def write_weights(folder: Path, size: int, fill: int = 1) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model-00001-of-00002.safetensors").write_bytes(bytes([fill]) * size)
    (folder / "model-00002-of-00002.safetensors").write_bytes(b"\x07" * 1000)
    (folder / "config.json").write_text("{}")


def test_weights_hash_follows_the_weights_not_the_folder(tmp_path: Path) -> None:
    size = 3 * 2**20 + 17
    write_weights(tmp_path / "a", size)
    first = hash_weights(tmp_path / "a")
    assert first is not None and len(first) == 16
    shutil.copytree(tmp_path / "a", tmp_path / "elsewhere" / "b")
    assert hash_weights(tmp_path / "elsewhere" / "b") == first  # moved: same weights, same hash
    (tmp_path / "a" / "config.json").write_text('{"x": 1}')
    (tmp_path / "a" / ".cache").mkdir()
    (tmp_path / "a" / ".cache" / "junk.bin").write_bytes(b"x")
    assert hash_weights(tmp_path / "a") == first  # configs and hidden folders are not weights

    tail = tmp_path / "a" / "model-00001-of-00002.safetensors"
    data = bytearray(tail.read_bytes())
    data[-5] ^= 0xFF  # a change in the last MiB
    tail.write_bytes(bytes(data))
    assert hash_weights(tmp_path / "a") != first
    write_weights(tmp_path / "c", size + 1)  # a different size
    assert hash_weights(tmp_path / "c") != first


def test_weights_hash_is_none_without_weights(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert hash_weights(tmp_path / "empty") is None
    assert hash_weights(tmp_path / "missing") is None
    assert weights_hash_for("nobody/not-a-cached-model") is None  # offline, never downloads


def test_a_model_that_cannot_be_loaded_is_one_line(tmp_path: Path) -> None:
    class Loads:
        @staticmethod
        def from_pretrained(*args: object, **kwargs: object) -> None:
            return None

    class Huge:
        @staticmethod
        def from_pretrained(*args: object, **kwargs: object) -> None:
            raise RuntimeError(
                "unable to mmap 160000000136 bytes from file <x>: Cannot allocate memory (12)\nmore"
            )

    (tmp_path / "m").mkdir()
    with pytest.raises(SpotfakeError) as err:
        load_pretrained(
            "hf", Huge, Loads, str(tmp_path / "m"), device=torch.device("cpu"), dtype=torch.float32
        )
    assert "not enough memory for the weights it declares" in str(err.value) and "\n" not in str(err.value)


def test_paths_that_cannot_be_hub_ids() -> None:
    assert (
        looks_local("/models/fakevlm")
        and looks_local("./ckpt")
        and looks_local("~/m")
        and looks_local("a/b/c")
    )
    assert not looks_local("lingcco/fakeVLM") and not looks_local("gpt2")
