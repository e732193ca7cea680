"""spotfake: benchmark and leaderboard harness for synthetic-image and deepfake detection.

The installed package holds four subpackages, each a top-level folder of the repository:
:mod:`spotfake.harness` (the engine), :mod:`spotfake.tasks`, :mod:`spotfake.adapters` and
:mod:`spotfake.leaderboard`.
"""
