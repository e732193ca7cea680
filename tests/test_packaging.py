"""What a user installs: the core install runs the demo and names each missing extra in one line, and the
wheel installs only under the ``spotfake`` namespace, beside the Hugging Face ``adapters`` package."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from fixtures.core_install import link_core_install

pytestmark = pytest.mark.slow

PACKAGES = ("harness", "tasks", "adapters", "leaderboard")
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def _env(pythonpath: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SPOTFAKE_"))}
    return {**env, **OFFLINE_ENV, "PYTHONPATH": str(pythonpath)}


def _python(args: list[str], pythonpath: Path, cwd: Path, *, isolated: bool = False) -> str:
    """Run the test interpreter (``-S``: without its site-packages) with ``pythonpath``; return stdout."""
    command = [sys.executable, *(["-S"] if isolated else []), *args]
    done = subprocess.run(command, cwd=cwd, env=_env(pythonpath), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


# ------------------------------------------------------------------ the core install

CORE_SCRIPT = r"""
import contextlib, importlib.util, io, json, sys
from spotfake.harness.cli import main

out = {"importable": [m for m in sys.argv[2].split(",") if importlib.util.find_spec(m)], "errors": {}}
with contextlib.redirect_stderr(io.StringIO()):
    out["run"] = main(["run", "--limit", "8", "--bootstrap", "0", "--output-dir", sys.argv[1]])
for argv in json.loads(sys.argv[3]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(argv)
    out["errors"][" ".join(argv[:2])] = [code, err.getvalue()]
print(json.dumps(out))
"""

EXTRA_MODULES = ("accelerate", "peft", "skimage", "datasets", "evaluate", "matplotlib", "streamlit", "altair",
                 "pandas", "sqlalchemy", "psycopg")  # fmt: skip


def test_the_core_install_runs_the_demo_and_names_each_missing_extra(tmp_path: Path) -> None:
    tree = tmp_path / "site"
    linked = link_core_install(tree, REPO_ROOT / "pyproject.toml", REPO_ROOT / "spotfake")
    assert "sentence-transformers" in linked and "accelerate" not in linked
    runs = tmp_path / "runs"
    commands = [
        ["leaderboard", "--no-browser"],
        ["submit", str(runs / "random" / "demo")],
        ["report", str(runs), "--figures", str(tmp_path / "figures")],
        ["arena", "ratings", "--task", "demo", "--db", str(tmp_path / "votes.sqlite3")],
        ["train", "fakevlm", "--from-scratch", "demo", "--output", str(tmp_path / "model")],
        ["demo", "build", "--seed", "0", "--output", str(tmp_path / "demo"), "--profile", "small"],
        ["run", "--model", "hf", "--model-args", "path=x/y/z", "--task", "demo", "--output-dir", str(runs)],
    ]
    args = ["-c", CORE_SCRIPT, str(runs), ",".join(EXTRA_MODULES), json.dumps(commands)]
    out = json.loads(_python(args, tree, tmp_path, isolated=True).splitlines()[-1])

    assert out["importable"] == [], "the core tree holds an extra's library"
    assert out["run"] == 0
    demo = json.loads((runs / "fakevlm-demo" / "demo" / "results.json").read_text(encoding="utf-8"))
    assert {"rouge_l", "css"} <= {k for k, v in demo["metrics"].items() if v is not None}
    assert (runs / "npr-demo" / "demo" / "results.json").is_file()
    assert (runs / "linear-probe" / "demo" / "results.json").is_file()
    expected = {
        "leaderboard --no-browser": "leaderboard",
        f"submit {runs / 'random' / 'demo'}": "leaderboard",
        f"report {runs}": "report",
        "arena ratings": "leaderboard",
        "train fakevlm": "train",
        "demo build": "train",
        "run --model": "lmm",
    }
    assert set(out["errors"]) == set(expected)
    for command, extra in expected.items():
        code, err = out["errors"][command]
        assert code == 2 and len(err.strip().splitlines()) == 1, (command, err)
        assert err.strip().endswith(f"pip install 'spotfake[{extra}]'"), (command, err)


# ------------------------------------------------------------------ the wheel


def _build_wheel(tmp_path: Path) -> Path:
    """Build the wheel from a copy of the sources (the repository's own build/ is left alone)."""
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "runs")
    for name in (*PACKAGES, "spotfake"):
        shutil.copytree(REPO_ROOT / name, source / name, symlinks=True, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    out = tmp_path / "dist"
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        str(out),
        str(source),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    (wheel,) = out.glob("spotfake-*.whl")
    return wheel


UNREACHABLE = ("NewConnectionError", "Failed to establish", "Temporary failure in name resolution",
               "Network is unreachable", "Max retries exceeded", "Could not fetch URL", "ConnectTimeout")  # fmt: skip


def _install(target: Path, *requirements: str) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "-q",
        "--target",
        str(target),
        *requirements,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0 and any(s in done.stdout + done.stderr for s in UNREACHABLE):
        pytest.skip(f"the package index is unreachable: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr[-4000:]


WHEEL_SCRIPT = r"""
import importlib.util, json, sys
target = sys.argv[1]
spec = importlib.util.find_spec("adapters")
out = {"adapters_origin": spec.origin}
try:
    import adapters
    out["adapters_import"] = [adapters.__file__, hasattr(adapters, "registry"), getattr(adapters, "__version__", None)]
except Exception as exc:  # the HF package may not load against this transformers
    out["adapters_import"] = f"{type(exc).__name__}: {exc}"
import spotfake.adapters.registry, spotfake.harness.cli, spotfake.tasks.registry
out["spotfake"] = [m.__file__ for m in (spotfake.adapters.registry, spotfake.harness.cli, spotfake.tasks.registry)]
out["top_level_harness"] = importlib.util.find_spec("harness") is not None
print(json.dumps(out))
"""


def test_the_wheel_installs_beside_the_hf_adapters_package(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"spotfake", wheel.name.split("-py3")[0] + ".dist-info"}, tops
    assert not [n for n in names if "/tests/" in n or n.startswith("tests/") or "fixtures" in n]
    for data in (
        "spotfake/tasks/definitions/demo.yaml",
        "spotfake/harness/schema/results.schema.json",
        "spotfake/adapters/weights/fakevlm-demo/model.safetensors",
        "spotfake/adapters/weights/npr_demo.safetensors",
        "spotfake/tasks/demo/data/manifest.json",
    ):
        assert data in names, data

    target = tmp_path / "target"
    _install(target, str(wheel), "adapters")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    out = json.loads(_python(["-c", WHEEL_SCRIPT, str(target)], target, outside).splitlines()[-1])

    assert Path(out["adapters_origin"]).is_relative_to(target), out
    assert not Path(out["adapters_origin"]).is_relative_to(target / "spotfake"), out
    if isinstance(out["adapters_import"], list):  # it imported: the Hugging Face package, not spotfake's
        path, has_spotfake_registry, _ = out["adapters_import"]
        assert Path(path).is_relative_to(target) and not has_spotfake_registry, out
    for path in out["spotfake"]:
        assert Path(path).is_relative_to(target / "spotfake"), out
    assert out["top_level_harness"] is False

    models = _python(["-m", "spotfake.harness.cli", "list", "models"], target, outside)
    for name in ("always-fake", "npr-demo", "linear-probe", "fakevlm-demo", "fakevlm", "hf", "openai"):
        assert f"\n{name} " in "\n" + models, name
    tasks = _python(["-m", "spotfake.harness.cli", "list", "tasks"], target, outside)
    assert any(line.split()[:2] == ["demo", "n=480"] for line in tasks.splitlines()), tasks
    verified = _python(["-m", "spotfake.harness.cli", "demo", "verify"], target, outside)
    assert verified.startswith("ok: ") and "match the manifest" in verified, verified
    runs = tmp_path / "runs"
    _python(["-m", "spotfake.harness.cli", "run", "--model", "npr-demo", "--task", "demo", "--limit", "8",
             "--bootstrap", "0", "--output-dir", str(runs)], target, outside)  # fmt: skip
    results = json.loads((runs / "npr-demo" / "demo" / "results.json").read_text(encoding="utf-8"))
    assert results["task"]["name"] == "demo" and results["metrics"]["auc"] is not None
