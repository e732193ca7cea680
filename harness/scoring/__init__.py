"""From responses to records to a results file: the one path that fresh runs, resumed runs, ``spotfake
score`` and submission checks all take.

One job per module: :mod:`~harness.scoring.options` (what is recorded of how a run is scored),
:mod:`~harness.scoring.records` (one record per task sample, ground truth from the task),
:mod:`~harness.scoring.verdicts` (every verdict derived from its response by the task's parser),
:mod:`~harness.scoring.summarize` (metrics), :mod:`~harness.scoring.thresholds` (the threshold policy:
``--threshold``, calibrated thresholds and the refusal of one fitted on the test data),
:mod:`~harness.scoring.document` (``results.json``) and
:mod:`~harness.scoring.predictions` (saved prediction files). The run key is
:attr:`harness.run_identity.RunIdentity.key`.
"""

from spotfake.harness.scoring.document import build_results
from spotfake.harness.scoring.options import ScoringOptions
from spotfake.harness.scoring.predictions import responses_from_predictions
from spotfake.harness.scoring.records import complete_records, make_record, records_from_responses
from spotfake.harness.scoring.summarize import score_and_summarize
from spotfake.harness.scoring.thresholds import Calibration, threshold_arg
from spotfake.harness.scoring.verdicts import derive_verdicts

__all__ = [
    "Calibration",
    "ScoringOptions",
    "build_results",
    "complete_records",
    "derive_verdicts",
    "make_record",
    "records_from_responses",
    "responses_from_predictions",
    "score_and_summarize",
    "threshold_arg",
]
