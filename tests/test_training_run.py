"""`spotfake train fakevlm` on a tiny LLaVA: the loss falls, runs resume exactly, the output evaluates in the
prompt format it was trained in, and any task split with reference answers (DD-VQA's) is a training set."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fixtures.tiny_models import LLAVA_CHAT_TEMPLATE, build_tiny_llava
from fixtures.training.ddvqa import CORPUS as DDVQA_CORPUS
from fixtures.training.ddvqa import QUESTIONS, write_ddvqa
from fixtures.training.fakeclue import CORPUS, write_fakeclue
from safetensors.torch import load_file

from spotfake.adapters.fakevlm.adapter import FakeVLM
from spotfake.adapters.fakevlm.prompts import FORMAT_FILE, format_prompt
from spotfake.adapters.fakevlm.train import (
    CHECKPOINT_DIR,
    LOG_FILE,
    SUMMARY_FILE,
    TrainConfig,
    checkpoint_dirs,
    derive_grad_accum,
    make_plan,
    train,
)
from spotfake.harness.cli import main as spotfake
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item
from spotfake.harness.task import load_task


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny LLaVA with a LLaVA-1.5-style chat template (so the default chat format applies)."""
    return build_tiny_llava(
        tmp_path_factory.mktemp("tiny-llava"), corpus=CORPUS + DDVQA_CORPUS, chat_template=LLAVA_CHAT_TEMPLATE
    )


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fakeclue(tmp_path_factory.mktemp("fakeclue"), n=16)


def config(base: Path, data_root: Path, output: Path, **overrides: object) -> TrainConfig:
    values: dict[str, object] = {
        "output": output,
        "data_root": data_root,
        "base": str(base),
        "max_steps": 8,
        "lr": 3e-3,
        "batch_size": 4,
        "global_batch_size": 8,
        "num_workers": 0,
        "log_steps": 1,
        "save_steps": 3,
        "save_total_limit": 10,
    }
    values.update(overrides)
    return TrainConfig(**values)  # type: ignore[arg-type]


def read_log(output: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in (output / LOG_FILE).read_text().splitlines()]


def test_grad_accum_is_derived_from_the_global_batch() -> None:
    assert derive_grad_accum(256, 16, 8) == 2  # the paper's 256 on 8 GPUs
    assert derive_grad_accum(256, 4, 1) == 64
    assert derive_grad_accum(256, 48, 2) == 3  # rounded up: 288 >= 256
    cfg = TrainConfig(output=Path("o"), data_root=Path("d"), batch_size=16)
    plan = make_plan(cfg, examples=104_000, world_size=8, batches_per_epoch=813)
    assert plan.global_batch_size == 256
    assert plan.updates_per_epoch == 407 and plan.total_steps == 814 and plan.epochs == 2
    assert plan.warmup_steps == 25  # ceil(3% of 814)


def test_loss_goes_down_and_output_is_a_hf_folder(base: Path, data_root: Path, tmp_path: Path) -> None:
    from transformers import AutoProcessor, LlavaForConditionalGeneration

    out = tmp_path / "out"
    result = train(config(base, data_root, out, max_steps=20, lr=5e-3, save_steps=0))
    log = read_log(out)
    assert [e["step"] for e in log] == list(range(1, 21))
    assert log[-1]["loss"] < 0.7 * log[0]["loss"]
    assert result.steps == 20 and result.plan.grad_accum == 2 and result.plan.updates_per_epoch == 2
    assert log[-1]["lr"] == 0.0 and max(e["lr"] for e in log) == pytest.approx(5e-3)  # cosine to zero
    assert not (out / CHECKPOINT_DIR).exists()
    summary = json.loads((out / SUMMARY_FILE).read_text())
    assert summary["plan"]["global_batch_size"] == 8 and summary["precision"] == "no"
    model = LlavaForConditionalGeneration.from_pretrained(out)
    processor = AutoProcessor.from_pretrained(out)
    assert model.generation_config.eos_token_id == processor.tokenizer.eos_token_id
    trained, initial = load_file(out / "model.safetensors"), load_file(base / "model.safetensors")
    assert trained.keys() == initial.keys()
    assert any(not trained[k].equal(initial[k]) for k in trained if "vision_tower" in k)  # tower trained too


def test_resumed_run_continues_from_its_step_exactly(base: Path, data_root: Path, tmp_path: Path) -> None:
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    train(config(base, data_root, whole, keep_checkpoints=True))
    assert [p.name for p in checkpoint_dirs(whole)] == ["step-0000003", "step-0000006", "step-0000008"]
    # An interrupted run: only the step-3 checkpoint (mid-epoch: 2 steps per epoch) made it to disk.
    shutil.copytree(whole / CHECKPOINT_DIR / "step-0000003", resumed / CHECKPOINT_DIR / "step-0000003")
    result = train(config(base, data_root, resumed, resume=True))
    assert result.resumed_from == 3 and result.steps == 8
    assert [e["step"] for e in read_log(resumed)] == [4, 5, 6, 7, 8]
    whole_log = {e["step"]: e["loss"] for e in read_log(whole)}
    assert all(e["loss"] == pytest.approx(whole_log[e["step"]], abs=1e-5) for e in read_log(resumed))
    a, b = load_file(whole / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert all((a[k] - b[k]).abs().max() < 1e-6 for k in a)


def test_existing_checkpoints_need_resume(base: Path, data_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    train(config(base, data_root, out, max_steps=3, keep_checkpoints=True))
    with pytest.raises(SpotfakeError, match="pass --resume"):
        train(config(base, data_root, out, max_steps=3))
    with pytest.raises(SpotfakeError, match=r"plan changed \(batch_size 4 then, 2 now"):
        train(config(base, data_root, out, max_steps=3, batch_size=2, resume=True))
    with pytest.raises(SpotfakeError, match=r"plan changed \(prompt_format chat then, raw now"):
        train(config(base, data_root, out, max_steps=3, prompt_format="raw", resume=True))


def test_lora_merges_into_a_plain_model(base: Path, data_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "lora"
    train(config(base, data_root, out, max_steps=3, lora=True, lora_r=4, lora_alpha=8, save_steps=0,
                 gradient_checkpointing=True))  # fmt: skip
    trained, initial = load_file(out / "model.safetensors"), load_file(base / "model.safetensors")
    assert trained.keys() == initial.keys()  # merged: no lora_ tensors, same names as the base
    changed = {k for k in trained if not trained[k].equal(initial[k])}
    assert any("language_model" in k and "q_proj" in k for k in changed)
    assert any("multi_modal_projector" in k for k in changed)
    assert not any("embed_tokens" in k or "norm" in k for k in changed)  # only LoRA targets + projector


def test_lora_adapter_only_saves_a_peft_adapter(base: Path, data_root: Path, tmp_path: Path) -> None:
    from peft import PeftModel
    from transformers import LlavaForConditionalGeneration

    out = tmp_path / "adapter"
    train(config(base, data_root, out, max_steps=2, lora=True, lora_r=4, lora_merge=False, save_steps=0))
    assert (out / "adapter_config.json").is_file() and not (out / "model.safetensors").exists()
    model = PeftModel.from_pretrained(LlavaForConditionalGeneration.from_pretrained(base), out)
    assert any("lora_A" in name for name, _ in model.named_parameters())


def test_from_scratch_builds_its_base_and_tokenizer(data_root: Path, tmp_path: Path) -> None:
    from transformers import AutoProcessor

    shape = tmp_path / "shape.json"
    shape.write_text(
        json.dumps(
            {
                "image_size": 32,
                "vision_hidden": 32,
                "vision_layers": 1,
                "vision_heads": 2,
                "vision_intermediate": 64,
            }
            | {
                "text_hidden": 32,
                "text_layers": 1,
                "text_heads": 2,
                "text_intermediate": 64,
                "vocab_size": 600,
            }
        )
    )
    out = tmp_path / "scratch"
    with pytest.raises(SpotfakeError, match="without a chat template; pass --prompt-format raw"):
        train(TrainConfig(output=out, data_root=data_root, from_scratch=str(shape)))
    train(TrainConfig(output=out, data_root=data_root, from_scratch=str(shape), max_steps=2, lr=1e-3, batch_size=8,
                      global_batch_size=8, num_workers=0, save_steps=0, prompt_format="raw"))  # fmt: skip
    # A from-scratch base has no chat template of its own; --chat-template gives it one.
    template = tmp_path / "llava.jinja"
    template.write_text(LLAVA_CHAT_TEMPLATE)
    chat_out = tmp_path / "scratch-chat"
    train(TrainConfig(output=chat_out, data_root=data_root, from_scratch=str(shape), max_steps=1, batch_size=8,
                      global_batch_size=8, num_workers=0, save_steps=0, chat_template=template))  # fmt: skip
    assert json.loads((chat_out / FORMAT_FILE).read_text())["prompt_format"] == "chat"
    chat = FakeVLM(path=str(chat_out), max_new_tokens="2")
    assert chat.settings()["prompt"] == "USER: Does the image looks real/fake?<image>\nASSISTANT:"
    chat.close()
    tokenizer = AutoProcessor.from_pretrained(out).tokenizer
    assert 300 < len(tokenizer) <= 600
    # Trained on the clues: a clue word is one token.
    assert len(tokenizer(" checkerboard", add_special_tokens=False)["input_ids"]) == 1
    assert not (out / CHECKPOINT_DIR).exists()


@pytest.mark.slow
def test_cli_trains_and_the_folder_evaluates_as_fakevlm(
    base: Path, data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, runs = tmp_path / "model", tmp_path / "runs"
    code = spotfake(
        ["train", "fakevlm", "--base", str(base), "--data-root", str(data_root), "--output", str(out),
         "--max-steps", "60", "--lr", "5e-3", "--batch-size", "8", "--global-batch-size", "8",
         "--num-workers", "0", "--log-steps", "20"]
    )  # fmt: skip
    assert code == 0
    assert f"path={out}" in capsys.readouterr().out
    assert json.loads((out / FORMAT_FILE).read_text())["prompt_format"] == "chat"  # the upstream default
    code = spotfake(
        ["run", "--model", "fakevlm", "--model-args", f"path={out},max_new_tokens=32", "--task", "fakeclue",
         "--data-root", str(data_root), "--task-args", "split=train", "--output-dir", str(runs),
         "--bootstrap", "20", "--quiet"]
    )  # fmt: skip
    assert code == 0
    (found,) = runs.glob("*/fakeclue@split=train/results.json")  # the task folder names the split
    results = json.loads(found.read_text())
    # Evaluated in the format it was trained in: the checkpoint's chat template around the question.
    settings = results["model"]["settings"]
    assert (
        settings["prompt"].startswith("USER: Does the image looks real/fake?") and settings["chat_template"]
    )
    metrics = results["metrics"]
    assert metrics["n"] == 16 and metrics["n_errors"] == 0
    # It learned FakeClue's answer form: every answer opens with a verdict and echoes the clues.
    assert metrics["unparsed_rate"] == 0.0
    assert metrics["rouge_l"] > 0.4


def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    code = spotfake(["train", "fakevlm", "--base", str(tmp_path), "--data-root", str(tmp_path / "empty"),
                     "--output", str(tmp_path / "o")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "empty/data_json/train.json" in err and "Traceback" not in err and err.count("\n") == 1
    code = spotfake(["train", "fakevlm", "--base", str(tmp_path), "--task", "ddvqa", "--data-root",
                     str(tmp_path / "empty"), "--output", str(tmp_path / "o"), "--task-args", "frame=x"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "unknown task argument(s) frame" in err and "Traceback" not in err


def test_corrupt_image_stops_training_with_one_line(base: Path, data_root: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(data_root, data)
    (data / "train" / "synthetic" / "fake" / "0004.png").write_bytes(b"not a png")
    with pytest.raises(SpotfakeError) as caught:
        train(config(base, data, tmp_path / "out", num_workers=1, save_steps=0))
    message = str(caught.value)
    assert "cannot read image" in message and "sample synthetic/fake/0004.png" in message
    assert "\n" not in message and "Traceback" not in message


def test_a_raw_trained_model_is_evaluated_raw(base: Path, data_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "raw"
    train(config(base, data_root, out, max_steps=1, save_steps=0, prompt_format="raw"))
    assert json.loads((out / FORMAT_FILE).read_text())["prompt_format"] == "raw"
    summary = json.loads((out / SUMMARY_FILE).read_text())
    assert summary["prompt_format"] == "raw" and summary["data"]["task"] == "fakeclue"
    # The base has a chat template, but the model was trained raw: the published raw prompt.
    raw = FakeVLM(path=str(out), max_new_tokens="2")
    assert raw.settings()["prompt"] == "<image>Does the image looks real/fake?"
    assert raw.settings()["chat_template"] is None
    raw.close()
    chat = FakeVLM(path=str(out), max_new_tokens="2", prompt_format="chat")
    assert chat.settings()["prompt"].startswith("USER: ") and chat.settings()["chat_template"]
    chat.close()


@pytest.mark.slow
def test_ddvqa_train_split_trains_on_its_own_questions_and_evaluates(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_ddvqa(tmp_path / "ddvqa", split="train", videos=1)
    out, runs = tmp_path / "model", tmp_path / "runs"
    code = spotfake(
        ["train", "fakevlm", "--base", str(base), "--task", "ddvqa", "--split", "train", "--data-root", str(root),
         "--output", str(out), "--max-steps", "3", "--lr", "3e-3", "--batch-size", "6", "--global-batch-size", "6",
         "--num-workers", "0", "--log-steps", "1", "--save-steps", "0"]
    )  # fmt: skip
    assert code == 0
    summary = json.loads((out / SUMMARY_FILE).read_text())
    assert summary["data"]["task"] == "ddvqa" and summary["data"]["task_args"]["split"] == "train"
    assert summary["plan"]["examples"] == 18  # 6 methods x 1 video x 3 questions, one reference each
    assert summary["prompt_format"] == "chat"

    # The checkpoint asks each sample its own question, in the chat format it was trained in.
    task = load_task("ddvqa", root, {"split": "train"})
    model = FakeVLM(path=str(out), max_new_tokens="4", batch_size="6")
    seen: list[str] = []
    encode = model.engine.encode_isolating

    def recording(texts: list[str], *args: object) -> object:
        seen.extend(texts)
        return encode(texts, *args)

    monkeypatch.setattr(model.engine, "encode_isolating", recording)
    try:
        samples = task.samples[:3]
        responses = model.predict([Item(s, s.load_images()) for s in samples])
    finally:
        model.close()
    assert all(r.error is None for r in responses)
    assert [q for q, _ in QUESTIONS] == [s.question for s in samples]
    assert seen == [format_prompt(s.question or "", "chat", model.engine.processor) for s in samples]
    assert len(set(seen)) == 3

    code = spotfake(
        ["run", "--model", "fakevlm", "--model-args", f"path={out},max_new_tokens=8", "--task", "ddvqa",
         "--data-root", str(root), "--task-args", "split=train", "--output-dir", str(runs), "--bootstrap", "10",
         "--quiet"]
    )  # fmt: skip
    assert code == 0
    (found,) = runs.glob("*/ddvqa@split=train/results.json")  # the task folder names the split
    metrics = json.loads(found.read_text())["metrics"]
    assert metrics["n"] == 18 and metrics["n_errors"] == 0


def test_the_split_comes_from_split_or_task_args_never_both() -> None:
    import argparse

    from spotfake.adapters.fakevlm.train_cli import config_from_args, register

    parser = argparse.ArgumentParser()
    register(parser)
    common = ["--base", "b", "--output", "o"]
    default = config_from_args(parser.parse_args(common))
    assert (default.task, default.split, default.task_args, default.prompt_format) == (
        "fakeclue",
        "train",
        {},
        "chat",
    )
    ddvqa = config_from_args(
        parser.parse_args([*common, "--task", "ddvqa", "--task-args", "split=val,frames=f"])
    )
    assert (ddvqa.task, ddvqa.split, ddvqa.task_args) == ("ddvqa", "val", {"frames": "f"})
    with pytest.raises(SpotfakeError, match="--split train and --task-args split=val disagree"):
        config_from_args(parser.parse_args([*common, "--split", "train", "--task-args", "split=val"]))


def test_an_older_base_without_processor_fields_trains_and_saves_them(
    base: Path, data_root: Path, tmp_path: Path
) -> None:
    old = tmp_path / "old-style"
    shutil.copytree(base, old)
    fields = ("patch_size", "vision_feature_select_strategy", "num_additional_image_tokens")
    saved = json.loads((old / "processor_config.json").read_text())
    (old / "processor_config.json").write_text(
        json.dumps({k: v for k, v in saved.items() if k not in fields})
    )
    out = tmp_path / "out"
    train(config(old, data_root, out, max_steps=1, save_steps=0))
    written = json.loads((out / "processor_config.json").read_text())
    assert {k: written[k] for k in fields} == {k: saved[k] for k in fields}


def test_a_chat_template_file_needs_the_chat_format_and_must_exist(data_root: Path, tmp_path: Path) -> None:
    template = tmp_path / "t.jinja"
    template.write_text(LLAVA_CHAT_TEMPLATE)
    plain = build_tiny_llava(tmp_path / "plain", corpus=CORPUS)  # no chat template
    with pytest.raises(SpotfakeError, match="no chat template; pass --prompt-format raw, or --chat-template"):
        train(TrainConfig(output=tmp_path / "o", data_root=data_root, base=str(plain), max_steps=1))
    with pytest.raises(SpotfakeError, match="--chat-template applies to --prompt-format chat only"):
        train(TrainConfig(output=tmp_path / "o", data_root=data_root, base="b", prompt_format="raw",
                          chat_template=template))  # fmt: skip
    with pytest.raises(SpotfakeError, match="--chat-template .*nope.jinja: no such file"):
        train(
            TrainConfig(
                output=tmp_path / "o", data_root=data_root, base="b", chat_template=tmp_path / "nope.jinja"
            )
        )


def test_a_base_without_processor_takes_one_from_elsewhere(
    base: Path, data_root: Path, tmp_path: Path
) -> None:
    bare = tmp_path / "weights-only"
    bare.mkdir()
    for name in ("config.json", "generation_config.json", "model.safetensors"):
        shutil.copy(base / name, bare / name)
    with pytest.raises(SpotfakeError, match="cannot load a processor from it .*--processor FOLDER") as caught:
        train(config(bare, data_root, tmp_path / "fails", max_steps=1, save_steps=0))
    assert "\n" not in str(caught.value)
    out = tmp_path / "out"
    train(config(bare, data_root, out, max_steps=1, save_steps=0, processor=str(base)))
    assert (out / "tokenizer.json").is_file() and json.loads((out / FORMAT_FILE).read_text())[
        "prompt_format"
    ] == "chat"
