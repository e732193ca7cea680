"""Paper-ready output from result folders alone: tables (Markdown, LaTeX, CSV), detector curves and figures.

- :mod:`harness.report.runs` reads run folders (``results.json`` + ``samples.jsonl``);
- :mod:`harness.report.curves` computes ROC / PR points, reliability bins, threshold accuracies,
  robustness series and per-generator bars (pure functions, shared with the leaderboard);
- :mod:`harness.report.tables` builds and renders tables; :mod:`harness.report.figures` draws figures;
- :mod:`harness.report.cli` plugs in ``spotfake report`` and ``spotfake robustness``.
"""
