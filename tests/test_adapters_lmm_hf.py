"""hf adapter: any image-text-to-text model through its own chat template (tiny LLaVA and tiny Qwen2-VL)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from fixtures.tiny_models import LLAVA_CHAT_TEMPLATE, build_tiny_llava, build_tiny_qwen2_vl
from PIL import Image

from spotfake.adapters.hf_lmm import HFImageTextModel, build_messages
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item
from spotfake.harness.types import Sample


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("hf-lmm")
    return {
        "llava": build_tiny_llava(root / "tiny-llava-chat", chat_template=LLAVA_CHAT_TEMPLATE),
        "qwen2_vl": build_tiny_qwen2_vl(root / "tiny-qwen2-vl"),
    }


@pytest.fixture(scope="session")
def loaded(tiny_models: dict[str, Path]) -> dict[str, HFImageTextModel]:
    return {
        name: HFImageTextModel(path=str(path), batch_size="4", max_new_tokens="6")
        for name, path in tiny_models.items()
    }


def image(seed: int, size: tuple[int, int] = (44, 60)) -> Image.Image:
    return Image.fromarray(np.random.RandomState(seed).randint(0, 256, (*size, 3), dtype=np.uint8))


def sample_items() -> list[Item]:
    out = [
        Item(
            Sample(id=f"q{i}", label="fake", prompt="<image>\nIs this image real or fake?" + " Explain." * i),
            [image(i)],
        )
        for i in range(4)
    ]
    out.append(
        Item(Sample(id="pair", label=None, prompt="Which image is fake, A or B?"), [image(10), image(11)])
    )
    return out


def test_messages_hold_one_image_part_per_image_and_the_question() -> None:
    messages = build_messages("<image>\nIs it fake?", 2, system_prompt="Be brief.")
    assert messages[0] == {"role": "system", "content": [{"type": "text", "text": "Be brief."}]}
    assert messages[1]["content"] == [
        {"type": "image"},
        {"type": "image"},
        {"type": "text", "text": "Is it fake?"},
    ]


@pytest.mark.parametrize("name", ["llava", "qwen2_vl"])
def test_prompt_goes_through_the_models_chat_template(loaded: dict[str, HFImageTextModel], name: str) -> None:
    model = loaded[name]
    text = model.prompt_text(sample_items()[4])
    if name == "llava":
        assert text == "USER: <image>\n<image>\nWhich image is fake, A or B?ASSISTANT:"
    else:
        vision = "<|vision_start|><|image_pad|><|vision_end|>"
        assert (
            text
            == f"<|im_start|>user\n{vision}{vision}Which image is fake, A or B?<|im_end|>\n<|im_start|>assistant\n"
        )
    settings = model.settings()
    assert settings["generation"] == {"do_sample": False, "num_beams": 1, "max_new_tokens": 6}
    assert settings["dtype"] == "float32" and len(settings["chat_template_sha256"]) == 16


@pytest.mark.parametrize("name", ["llava", "qwen2_vl"])
def test_answers_are_the_new_tokens_of_a_direct_call(
    tiny_models: dict[str, Path], loaded: dict[str, HFImageTextModel], name: str
) -> None:
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_models[name])
    reference = AutoModelForImageTextToText.from_pretrained(tiny_models[name]).eval()
    batch = sample_items()
    responses = loaded[name].predict(batch)
    for item, response in zip(batch, responses, strict=True):
        text = loaded[name].prompt_text(item)
        inputs = processor(text=[text], images=[item.images], return_tensors="pt")
        out = reference.generate(**inputs, max_new_tokens=6, do_sample=False)
        expected = processor.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True).strip()
        assert response.error is None
        assert response.text == expected, item.sample.id
        assert response.usage is not None and response.usage["prompt_tokens"] == inputs["input_ids"].shape[1]


def test_multi_image_samples_feed_every_image(
    loaded: dict[str, HFImageTextModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = loaded["qwen2_vl"]
    seen: list[dict[str, Any]] = []
    original = model.engine.model.generate

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(model.engine.model, "generate", recording)
    model.predict([sample_items()[4]])
    (call,) = seen
    assert call["image_grid_thw"].shape[0] == 2  # both images of the pair reached the model


def test_an_image_the_processor_rejects_fails_alone(loaded: dict[str, HFImageTextModel]) -> None:
    batch = sample_items()[:3]
    # Qwen2-VL refuses aspect ratios above 200: this strip cannot be resized into patches
    batch[1] = Item(Sample(id="strip", label="real", prompt="Real or fake?"), [image(5, size=(1, 600))])
    responses = loaded["qwen2_vl"].predict(batch)
    assert responses[1].error is not None and "strip" in responses[1].error
    assert responses[0].error is None and responses[2].error is None
    assert [r.text for r in (responses[0], responses[2])] == [
        r.text for r in loaded["qwen2_vl"].predict([batch[0], batch[2]])
    ]


def test_order_of_answers_follows_the_items(loaded: dict[str, HFImageTextModel]) -> None:
    batch = sample_items()
    forward = loaded["llava"].predict(batch)
    backward = loaded["llava"].predict(batch[::-1])
    assert [r.text for r in backward] == [r.text for r in forward][::-1]


def test_a_model_without_chat_template_needs_one(tmp_path: Path) -> None:
    folder = build_tiny_llava(tmp_path / "no-template")
    with pytest.raises(SpotfakeError, match="no chat template"):
        HFImageTextModel(path=str(folder))
    template = tmp_path / "template.jinja"
    template.write_text(LLAVA_CHAT_TEMPLATE)
    model = HFImageTextModel(path=str(folder), chat_template=str(template), max_new_tokens="3")
    assert model.prompt_text(sample_items()[0]).startswith("USER: <image>\n")
    with pytest.raises(SpotfakeError, match="chat_template file not found"):
        HFImageTextModel(path=str(folder), chat_template=str(tmp_path / "missing.jinja"))


def test_truncated_weights_are_one_line_naming_the_folder(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "cut"
    shutil.copytree(tiny_models["qwen2_vl"], folder)
    (weights,) = folder.glob("*.safetensors")
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # an interrupted download
    with pytest.raises(SpotfakeError) as err:
        HFImageTextModel(path=str(folder), device="cpu")
    assert str(folder) in str(err.value) and "not fully covered" in str(err.value)
    assert "\n" not in str(err.value)


def test_path_is_required() -> None:
    with pytest.raises(SpotfakeError, match="path=<local folder or hub id> is required"):
        HFImageTextModel()


def test_runs_end_to_end_through_spotfake_run(tiny_models: dict[str, Path], tmp_path: Path) -> None:
    from spotfake.harness.cli import main

    for label in ("real", "fake"):
        (tmp_path / "data" / label).mkdir(parents=True)
        for i in range(2):
            image(i + (10 if label == "fake" else 0)).save(tmp_path / "data" / label / f"{i}.png")
    code = main(
        [
            "run",
            "--model",
            "hf",
            "--model-args",
            f"path={tiny_models['qwen2_vl']},max_new_tokens=5,batch_size=2",
            "--task",
            "imagefolder",
            "--data-root",
            str(tmp_path / "data"),
            "--output-dir",
            str(tmp_path / "runs"),
            "--bootstrap",
            "10",
            "--quiet",
        ]
    )
    assert code == 0
    (folder,) = (tmp_path / "runs").glob("hf@*/imagefolder")  # one folder per --model-args
    records = [json.loads(line) for line in (folder / "samples.jsonl").read_text().splitlines()]
    assert len(records) == 4 and all(r["error"] is None and isinstance(r["response"], str) for r in records)
    assert all(r["usage"]["completion_tokens"] <= 5 for r in records)
    results = json.loads((folder / "results.json").read_text())
    assert results["model"]["settings"]["model"] == "tiny-qwen2-vl"
