"""The spotfake leaderboard: a Streamlit app over result folders, and submissions checked by recomputation.

- :mod:`leaderboard.data`: result folders (committed ``results/``, local ``runs/``) -> pandas frames.
- :mod:`leaderboard.views`: the table and the altair charts, built without Streamlit.
- :mod:`leaderboard.stats`: paired significance tests (exact McNemar, paired bootstrap).
- :mod:`leaderboard.received`: a submission's two files from a folder, a zip or an upload, within limits.
- :mod:`leaderboard.submission`: the submission checks (recomputation) and atomic storing.
- :mod:`leaderboard.app`: the Streamlit app; :mod:`leaderboard.cli`: ``spotfake leaderboard`` / ``submit``.
- :mod:`leaderboard.import_reported`: published numbers -> ``results/reported/``.

It reads results through the engine's schema and never runs a model.
"""
