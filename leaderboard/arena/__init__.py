"""The human arena: pairwise votes on explanations, stored through SQLAlchemy, rated by Bradley-Terry.

- :mod:`.votes`: a vote, its JSON line, and the checks against what a task has (:class:`.votes.Catalog`);
- :mod:`.catalog`: which runs (contestants, named by run identity) explained which samples, read from
  result folders;
- :mod:`.voters`: who voted: a browser key, and the name typed, which the vote rules ignore;
- :mod:`.db`: the table and the engine (SQLite with WAL and a busy timeout by default, any URL);
- :mod:`.store`: adding, importing (all or nothing) and exporting votes, one vote per voter key per
  (sample, pair), a per-key rate limit, votes of earlier versions moved to their runs;
- :mod:`.ratings`: Bradley-Terry maximum likelihood on the Elo-like scale, bootstrap intervals, and rank
  agreement with the automatic metrics;
- :mod:`.pairing`: which sample and pair of models to show next (the least-voted pair);
- :mod:`.judge_agreement`: the judge's agreement with the votes (``spotfake judge-check --arena-db``);
- :mod:`.cli`: ``spotfake arena import|export|ratings``.
"""
