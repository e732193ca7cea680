"""``spotfake submit``, ``spotfake leaderboard`` and the import of published numbers."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from fixtures.leaderboard.board import Explainer, copy_run, register_task, run_models, write_fakeclue_data
from fixtures.shared import SharedData

from spotfake.harness.cli import main
from spotfake.harness.results import read_results
from spotfake.leaderboard import import_reported
from spotfake.leaderboard.cli import streamlit_command, wait_until_healthy

pytestmark = pytest.mark.xdist_group("leaderboard_cli")
TASK = "lbtoy-cli"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    task = register_task(TASK, write_fakeclue_data(root / "data"))
    (folder,) = run_models(task, root / "runs", [Explainer(name="cli-model")])
    return folder


def test_submit_accepts_an_honest_run(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "submit",
            str(run),
            "--results-dir",
            str(tmp_path / "results"),
            "--arena-db",
            str(tmp_path / "b.sqlite3"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(f"accepted: cli-model on {TASK} (Acc ")
    stored = read_results(tmp_path / "results" / "submitted" / "cli-model" / TASK / "results.json")
    assert stored["source"] == "submitted"


def test_submit_refuses_a_forgery_in_one_line_with_exit_code_2(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = copy_run(run, tmp_path / "forged")
    results = json.loads((forged / "results.json").read_text())
    results["metrics"]["f1"] = 1.0
    (forged / "results.json").write_text(json.dumps(results))
    code = main(
        [
            "submit",
            str(forged),
            "--results-dir",
            str(tmp_path / "results"),
            "--arena-db",
            str(tmp_path / "b.sqlite3"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(
        "spotfake: error: submission refused: results.json metric 'f1': claimed 1 but recomputed"
    )
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").rglob("results.json"))


def test_submit_names_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["submit", str(tmp_path / "nowhere"), "--arena-db", str(tmp_path / "b.sqlite3")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_the_streamlit_command_is_headless_on_loopback(tmp_path: Path) -> None:
    from spotfake.harness.cli import build_parser

    args = build_parser().parse_args(
        ["leaderboard", "--port", "9123", "--results-dir", str(tmp_path), "--data-root", "loki=data/LOKI"]
    )
    command = streamlit_command(args)
    flags = dict(zip(command[5::2], command[6::2], strict=False))
    assert command[1:4] == ["-m", "streamlit", "run"]
    assert Path(command[4]).resolve() == REPO / "leaderboard" / "app.py"
    assert flags["--server.headless"] == "true"
    assert flags["--server.address"] == "127.0.0.1"
    assert flags["--server.port"] == "9123"
    assert flags["--browser.gatherUsageStats"] == "false"
    tail = command[command.index("--") + 1 :]
    assert tail[tail.index("--results-dir") + 1] == str(tmp_path.resolve())
    assert tail[tail.index("--data-root") + 1] == f"loki={(Path('data/LOKI')).resolve()}"


def test_a_host_and_a_read_only_board_reach_the_app(tmp_path: Path) -> None:
    from spotfake.harness.cli import build_parser
    from spotfake.leaderboard.config import parse_args

    args = build_parser().parse_args(
        ["leaderboard", "--host", "0.0.0.0", "--no-submissions", "--results-dir", str(tmp_path)]
    )
    command = streamlit_command(args)
    flags = dict(zip(command[5::2], command[6::2], strict=False))
    assert flags["--server.address"] == "0.0.0.0"
    assert flags["--browser.serverAddress"] == "127.0.0.1"  # the address printed and opened locally
    config = parse_args(command[command.index("--") + 1 :])
    assert config.submissions is False and config.results_dir == tmp_path.resolve()
    plain = streamlit_command(build_parser().parse_args(["leaderboard"]))
    assert parse_args(plain[plain.index("--") + 1 :]).submissions is True


def test_leaderboard_refuses_a_bad_port(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["leaderboard", "--port", "0", "--no-browser"]) == 2
    assert "--port" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_spotfake_leaderboard_serves_the_app_on_localhost(run: Path, tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "spotfake.harness.cli", "leaderboard", "--no-browser", "--port", str(port),
         "--results-dir", str(tmp_path / "results"), "--runs-dir", str(run.parents[1])],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        assert wait_until_healthy(f"http://127.0.0.1:{port}", timeout_s=90), "the app did not come up"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200 and b'<div id="root">' in response.read()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _port_is_free(port: int) -> bool:
    """Whether a server could listen on ``port`` now (as Streamlit does: SO_REUSEADDR, so connections
    of the old server in TIME_WAIT do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.mark.slow
def test_sigterm_to_spotfake_leaderboard_frees_its_port_within_5_s(run: Path, tmp_path: Path) -> None:
    """SIGTERM goes to the `spotfake leaderboard` process alone (as `kill PID` does), not to its group:
    it must stop its Streamlit child itself."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "spotfake.harness.cli", "leaderboard", "--no-browser", "--port", str(port),
         "--results-dir", str(tmp_path / "results"), "--runs-dir", str(run.parents[1])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        assert wait_until_healthy(f"http://127.0.0.1:{port}", timeout_s=90), "the app did not come up"
        assert not _port_is_free(port)
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        while not _port_is_free(port) and time.monotonic() - started < 5.0:
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        assert _port_is_free(port), "the port is still served 5 s after SIGTERM"
        assert process.wait(timeout=5) == 128 + signal.SIGTERM
        assert elapsed < 5.0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        else:
            with contextlib.suppress(ProcessLookupError):  # a Streamlit child left behind: the test failed
                os.killpg(process.pid, signal.SIGKILL)


# ---------------------------------------------------------------------------------------------- reported rows


def test_committed_reported_rows_match_the_published_table(tmp_path: Path, shared_data: SharedData) -> None:
    published = shared_data("reference", "paper_results.csv")
    rows = import_reported.read_rows(published)
    results = import_reported.convert(rows, published.name)
    committed = REPO / "results" / "reported"
    assert import_reported.write_all(results, committed, check=True) == []
    found = sorted(p.parent.relative_to(committed) for p in committed.rglob("results.json"))
    assert found == sorted(results)
    fakevlm = read_results(committed / "fakevlm-arxiv-2503.14905" / "fakevlm" / "fakeclue" / "results.json")
    assert fakevlm["source"] == "reported"
    assert fakevlm["metrics"] == {"acc": 0.986, "f1": 0.981, "rouge_l": 0.58, "css": 0.877}
    assert fakevlm["reported"]["table"] == "2" and fakevlm["reported"]["f1_positive_class"] == "real"
    readings = {
        (r["model"]["name"], r["task"]["name"]): r["reported"]["f1_positive_class"]
        for r in map(read_results, committed.rglob("results.json"))
    }
    for row in (
        ("Qwen2-VL-7B", "fakeclue"),
        ("Qwen2-VL-7B", "ddvqa"),
        ("Common-DF-TI", "ddvqa"),
        ("CNNSpot", "dmimage"),
    ):
        assert readings[row] == "fake", row
    assert readings[("FakeVLM", "ddvqa")] == "weighted" and readings[("GPT-4o", "ddvqa")] == "unknown"
    cnnspot = read_results(committed / "fakevlm-arxiv-2503.14905" / "cnnspot" / "dmimage" / "results.json")
    assert (
        cnnspot["metrics"] == {"acc": 0.406, "f1_fake": 0.433}
        and cnnspot["reported"]["published_f1"] == 0.433
    )


def _csv(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "published.csv"
    path.write_text("source,table,dataset,model,acc,f1,rouge_l,css,auc,notes\n" + "\n".join(rows) + "\n")
    return path


def test_import_writes_schema_valid_files_and_is_stable(tmp_path: Path) -> None:
    csv = _csv(
        tmp_path,
        "Paper X,4,loki,GPT-4o,0.5,0.25,,,,",
        "Paper X,4,ff++,SRM,,,,,0.9,mean AUC",
        "Paper X,4,fakeclue,Qwen2-VL-7B,0.457,0.592,,,,",
        "Paper X,4,fakeclue,GPT-4o,0.5,,,,,",
    )
    out = tmp_path / "out"
    assert import_reported.main([str(csv), "--out", str(out)]) == 0
    gpt = read_results(out / "paper-x" / "gpt-4o" / "loki" / "results.json")
    assert gpt["metrics"] == {"acc": 0.5, "f1": 0.25} and gpt["model"]["kind"] == "lmm"
    assert gpt["reported"]["f1_positive_class"] == "real" and gpt["reported"]["published_f1"] == 0.25
    qwen = read_results(out / "paper-x" / "qwen2-vl-7b" / "fakeclue" / "results.json")
    assert qwen["metrics"] == {"acc": 0.457, "f1_fake": 0.592}  # no real-positive F1 fits: fake positive
    assert qwen["reported"]["f1_positive_class"] == "fake" and "fits: fake;" in qwen["reported"]["f1_check"]
    no_f1 = read_results(out / "paper-x" / "gpt-4o" / "fakeclue" / "results.json")["reported"]
    assert no_f1["f1_positive_class"] is None and "published_f1" not in no_f1
    srm = read_results(out / "paper-x" / "srm" / "ffpp" / "results.json")
    assert srm["model"]["kind"] == "expert" and srm["reported"]["notes"] == "mean AUC"
    assert srm["task"]["name"] == "ffpp" and srm["metrics"] == {"auc_mean_category": 0.9}
    before = (out / "paper-x" / "srm" / "ffpp" / "results.json").read_bytes()
    assert import_reported.main([str(csv), "--out", str(out), "--check"]) == 0
    assert import_reported.main([str(csv), "--out", str(out)]) == 0
    assert (out / "paper-x" / "srm" / "ffpp" / "results.json").read_bytes() == before  # created kept
    csv.write_text(csv.read_text().replace("0.9,mean", "0.8,mean"))
    assert import_reported.main([str(csv), "--out", str(out), "--check"]) == 1


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("Paper X,4,loki,NewModel,0.5,,,,,", "unknown model 'NewModel'"),
        ("Paper X,4,mystery,GPT-4o,0.5,,,,,", "unknown dataset 'mystery'"),
        ("Paper X,4,loki,GPT-4o,56.1,,,,,", "divide percentages by 100"),
        ("Paper X,4,loki,GPT-4o,,,,,,", "no metric value"),
        ("Paper X,4,loki,GPT-4o,high,,,,,", "must be a number"),
    ],
)
def test_import_refuses_bad_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], row: str, expected: str
) -> None:
    assert import_reported.main([str(_csv(tmp_path, row)), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert expected in err and "line 2" in err
    assert not (tmp_path / "out").exists()
