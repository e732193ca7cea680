"""The spotfake leaderboard: a Streamlit app over result folders, and submissions checked by recomputation.

- :mod:`leaderboard.scan`: result folders (committed ``results/``, local ``runs/``) read and cached by mtime;
  :mod:`leaderboard.data`: rows -> pandas frames; :mod:`leaderboard.overview`: models x tasks.
- :mod:`leaderboard.views`, :mod:`leaderboard.styling`: the ranked table and the altair charts, without
  Streamlit.
- :mod:`leaderboard.stats`, :mod:`leaderboard.ties`, :mod:`leaderboard.paired`: paired tests (exact
  McNemar, paired bootstrap, DeLong), tie marks, every-metric comparisons.
- :mod:`leaderboard.received`: a submission's two files from a folder, a zip or an upload, within limits;
  :mod:`leaderboard.submission`: parse, verify by recomputation, store under a lock.
- :mod:`leaderboard.app`: the Streamlit shell; :mod:`leaderboard.tabs`: one module per tab;
  :mod:`leaderboard.cli`: ``spotfake leaderboard`` / ``submit``.
- :mod:`leaderboard.import_reported`: published numbers -> ``results/reported/``.

It reads results through the engine's schema and never runs a model.
"""
