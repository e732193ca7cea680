"""Owned submissions: the first accepted submission of a model name gets an owner token (kept only as a
salted hash in the board's database, SQLite or PostgreSQL); replacing it, or submitting under the name
again, needs the token, from the command line and from the app; a second browser session cannot
overwrite someone else's entry. Also the submission's metadata and the check's steps in the app."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fixtures.leaderboard.board import BoardPaths, Explainer, build_board, run_models, zip_run
from postgres import fresh_database_url, postgres_url  # noqa: F401  (fixture)
from streamlit.testing.v1 import AppTest

from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import load_task
from spotfake.leaderboard.received import files_from_folder
from spotfake.leaderboard.submission import submit
from spotfake.leaderboard.submission.metadata import DECLARED, clean_metadata
from spotfake.leaderboard.submission.owners import OwnerError, OwnerStore, UnownedLegacyError
from spotfake.leaderboard.submission.store import AlreadyStored

pytestmark = pytest.mark.xdist_group("leaderboard_ownership")
TASK = "lbtoy-owners"


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> BoardPaths:
    return build_board(tmp_path_factory.mktemp("owners"), TASK)


@pytest.fixture(scope="module")
def second_run(board: BoardPaths, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of a model with no submission yet ("newcomer")."""
    (folder,) = run_models(load_task(TASK), tmp_path_factory.mktemp("newcomer"), [Explainer(name="newcomer")])
    return folder


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty board database of each kind."""
    return fresh_database_url(request, tmp_path, "owners")


# -- the owners' table ---------------------------------------------------------------------------------


def test_a_token_is_issued_once_and_only_its_hash_is_kept(db_url: str) -> None:
    owners = OwnerStore(db_url)
    assert owners.check("alpha", None, stored=False) is True  # a new name
    token = owners.claim("alpha")
    assert token.startswith("sfo_") and len(token) > 40
    assert owners.check("alpha", token, stored=True) is False
    assert owners.check("alpha", f"  {token}\n", stored=True) is False  # pasted with blanks
    with pytest.raises(OwnerError, match="no owner token was given"):
        owners.check("alpha", None, stored=True)
    with pytest.raises(OwnerError, match="not this name's"):
        owners.check("alpha", token[:-1] + ("A" if token[-1] != "A" else "B"), stored=True)
    with pytest.raises(OwnerError):
        owners.claim("alpha")  # claimed meanwhile by another submission
    beta = owners.claim("beta")
    with pytest.raises(OwnerError):
        owners.check("beta", token, stored=True)  # another name's token
    with pytest.raises(UnownedLegacyError, match="stored before owner tokens existed"):
        owners.check("gamma", None, stored=True)
    owners.release("beta", token)  # only its own token releases a name
    assert owners.owned("beta")
    owners.release("beta", beta)
    assert not owners.owned("beta")
    owners.close()


def test_the_database_holds_no_token_in_clear(tmp_path: Path) -> None:
    db = tmp_path / "board.sqlite3"
    owners = OwnerStore(db)
    token = owners.claim("alpha")
    owners.close()
    with sqlite3.connect(db) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        rows = conn.execute("SELECT name, salt, token_hash FROM submission_owners").fetchall()
    conn.close()
    assert {"arena_votes", "submission_owners"} <= tables  # one database with the arena's votes
    assert len(rows) == 1 and rows[0][0] == "alpha" and token not in repr(rows)
    assert token.encode() not in db.read_bytes() and token[4:].encode() not in db.read_bytes()


# -- submit() ------------------------------------------------------------------------------------------


def test_replacing_needs_the_owners_token(board: BoardPaths, second_run: Path, tmp_path: Path) -> None:
    results, owners = tmp_path / "results", OwnerStore(tmp_path / "board.sqlite3")
    files = files_from_folder(second_run)
    folder, first = submit(
        files, results, owners=owners, metadata={"paper": "https://arxiv.org/abs/1234.5678"}
    )
    token = first.owner_token
    assert token and json.loads((folder / "results.json").read_text())["provenance"]["metadata"] == {
        "paper": "https://arxiv.org/abs/1234.5678"
    }
    steps: list[str] = []
    with pytest.raises(OwnerError):
        submit(files, results, owners=owners, replace=True, progress=steps.append)
    assert steps == ["Checking who owns the model name 'newcomer'"]  # refused before the costly checks
    with pytest.raises(OwnerError):
        submit(files, results, owners=owners, replace=True, token="sfo_guess")
    with pytest.raises(AlreadyStored):
        submit(files, results, owners=owners, token=token)  # the owner, but no replacement asked for
    before = (folder / "results.json").read_text()
    _, again = submit(files, results, owners=owners, replace=True, token=token, metadata={"licence": "MIT"})
    assert again.owner_token is None  # a token is issued once
    stored = json.loads((folder / "results.json").read_text())
    assert stored["provenance"]["metadata"] == {"licence": "MIT"} and stored != json.loads(before)


def test_a_name_stored_before_tokens_cannot_be_taken_over(board: BoardPaths, tmp_path: Path) -> None:
    # build_board stored explainer-v2 without an owners' table, as an earlier version did
    owners = OwnerStore(tmp_path / "board.sqlite3")
    stored, run = board.results_dir / "submitted" / "explainer-v2" / TASK, tmp_path / "again"
    run.mkdir()
    for name in ("results.json", "samples.jsonl"):
        (run / name).write_bytes((stored / f"received.{name}").read_bytes())
    with pytest.raises(UnownedLegacyError):
        submit(files_from_folder(run), board.results_dir, owners=owners, replace=True)
    assert not owners.owned("explainer-v2")


def test_a_failed_store_gives_the_name_back(second_run: Path, tmp_path: Path) -> None:
    results, owners = tmp_path / "results", OwnerStore(tmp_path / "board.sqlite3")
    (results / "submitted").mkdir(parents=True)
    (results / "submitted" / ".locks").write_text("a file where the lock folder goes")
    with pytest.raises((SpotfakeError, OSError)):
        submit(files_from_folder(second_run), results, owners=owners)
    assert not owners.owned("newcomer")


def test_a_declared_parameter_count_is_stored_as_declared(second_run: Path, tmp_path: Path) -> None:
    folder, _ = submit(
        files_from_folder(second_run), tmp_path / "results", metadata={"parameters": "7,100,000"}
    )
    model = json.loads((folder / "results.json").read_text())["model"]
    assert model["parameters"] == 7_100_000 and model["parameters_note"] == DECLARED


def test_metadata_is_checked_field_by_field() -> None:
    assert clean_metadata({"paper": " https://x.org/p ", "code": "", "contact": None, "licence": "MIT"}) == {
        "paper": "https://x.org/p",
        "licence": "MIT",
    }
    cases: list[tuple[dict[str, object], str]] = [
        ({"paper": "javascript:alert(1)"}, "paper: 'javascript:alert(1)' is not an http(s) link"),
        ({"code": "https://"}, "code: 'https://' is not an http(s) link"),
        ({"licence": "x" * 101}, "licence: 101 characters, at most 100"),
        ({"contact": "a\nb"}, "contact: control characters or line breaks"),
        ({"homepage": "https://x.org"}, "unknown submission field 'homepage'"),
        ({"description": 5}, "description: expected text"),
        ({"parameters": "7B"}, "parameters: '7B' is not a whole number"),
    ]
    for bad, message in cases:
        with pytest.raises(SpotfakeError, match=message.replace("(", r"\(").replace(")", r"\)")):
            clean_metadata(bad)


# -- the command line ----------------------------------------------------------------------------------


def test_the_cli_prints_the_token_once_and_refuses_a_replacement_without_it(
    second_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = [
        "submit",
        str(second_run),
        "--results-dir",
        str(tmp_path / "results"),
        "--arena-db",
        str(tmp_path / "b.sqlite3"),
    ]
    assert main([*base, "--paper", "https://arxiv.org/abs/1234.5678", "--licence", "MIT"]) == 0
    out = capsys.readouterr().out
    (line,) = [x for x in out.splitlines() if x.startswith("owner token")]
    token = line.rsplit(": ", 1)[1]
    assert token.startswith("sfo_")
    assert main([*base, "--replace"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "belongs to whoever first submitted it" in err[0] and "--token" in err[0]
    assert main([*base, "--token", token]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already stored" in err[0] and "--replace --token" in err[0]
    assert main([*base, "--replace", "--token", token]) == 0
    assert "owner token" not in capsys.readouterr().out  # shown once, at the first submission
    assert main([*base, "--replace", "--token", token, "--paper", "ftp://x"]) == 2
    assert "not an http(s) link" in capsys.readouterr().err


# -- the app: two browser sessions ---------------------------------------------------------------------


def _script(results_dir: str, runs_dir: str, data_root: str, db: str) -> None:
    from pathlib import Path

    from spotfake.leaderboard.app import AppConfig, main

    main(
        AppConfig(
            results_dir=Path(results_dir),
            runs_dir=Path(runs_dir),
            data_roots={"": Path(data_root)},
            arena_db=db,
        )
    )


def _session(board: BoardPaths, results: Path, db: Path) -> AppTest:
    """A new browser session on the Submit tab."""
    at = AppTest.from_function(_script, args=(str(results), str(board.runs_dir), str(board.data_root), str(db)),
                               default_timeout=120)  # fmt: skip
    at.session_state["tab"] = "Submit"
    return at.run()


def _upload(at: AppTest, run: Path, *, replace: bool = False, token: str = "", **about: str) -> AppTest:
    at.file_uploader(key="submission_files").set_value(
        ("run.zip", zip_run(run, f"newcomer/{TASK}"), "application/zip")
    )
    at.checkbox(key="submission_replace").set_value(replace)
    at.text_input(key="submission_token").set_value(token)
    for field, value in about.items():
        (at.text_area if field == "description" else at.text_input)(key=f"submission_{field}").set_value(
            value
        )
    return at.form_submit_button[0].click().run()


def _refusal(at: AppTest) -> str:
    (error,) = at.error
    return str(error.value).replace("\\", "")


def _no_server_detail(text: str, *paths: Path) -> None:
    assert "--" not in text and not [p for p in paths if str(p) in text], text


def test_a_second_browser_session_cannot_overwrite_a_submission(
    board: BoardPaths, second_run: Path, tmp_path: Path
) -> None:
    results, db = tmp_path / "results", tmp_path / "board.sqlite3"
    results.mkdir()
    owner = _upload(_session(board, results, db), second_run, description="A careful explainer.",
                    paper="https://arxiv.org/abs/1234.5678", code="https://example.org/code", licence="MIT",
                    contact="me@example.org")  # fmt: skip
    assert not owner.error, [e.value for e in owner.error]
    (token,) = [c.value for c in owner.code if c.value.startswith("sfo_")]
    stored = results / "submitted" / "newcomer" / TASK / "results.json"
    first = stored.read_bytes()
    metadata = json.loads(first)["provenance"]["metadata"]
    assert metadata["contact"] == "me@example.org" and metadata["licence"] == "MIT"
    table: Any = next(d.value for d in owner.dataframe if "Rank" in d.value.columns)
    row = table[table["Model"] == "newcomer"].iloc[0]
    assert (row["Paper"], row["Code"], row["Licence"], row["About"]) == (
        "https://arxiv.org/abs/1234.5678",
        "https://example.org/code",
        "MIT",
        "A careful explainer.",
    )  # the contact is kept for the maintainers, not shown
    assert "me@example.org" not in json.dumps(table.astype(str).to_dict())

    intruder = _session(board, results, db)  # another browser: no token
    text = _refusal(_upload(intruder, second_run, replace=True))
    assert "belongs to whoever first submitted it" in text and "owner token" in text
    _no_server_detail(text, results, db, board.runs_dir)
    text = _refusal(_upload(_session(board, results, db), second_run, replace=True, token="sfo_" + "x" * 43))
    assert "not this name's" in text
    assert stored.read_bytes() == first  # untouched

    # the owner again, without ticking "replace": the duplicate refusal says how, in the uploader's words
    again = _upload(_session(board, results, db), second_run, token=token)
    text = _refusal(again)
    assert "already stored" in text and "Replace my earlier submission" in text and "owner token" in text
    _no_server_detail(text, results, db, board.runs_dir)
    (status,) = again.status
    assert status.label == "Refused" and status.state == "error"
    steps = [m.value for m in status.markdown]
    assert [s.split(" ")[0] for s in steps] == ["Checking", "Reading", "Loading", "Re-scoring", "Storing"], (
        steps
    )

    accepted = _upload(
        _session(board, results, db), second_run, replace=True, token=token, licence="Apache-2.0"
    )
    assert not accepted.error and not [c for c in accepted.code if c.value.startswith("sfo_")]
    assert json.loads(stored.read_text())["provenance"]["metadata"] == {"licence": "Apache-2.0"}
