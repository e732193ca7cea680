"""``spotfake audit``: what a task's images give away besides their content.

Per class: file formats, JPEG quality (estimated from the quantisation tables), image sizes and aspect
ratios, and a trivial "format-only" baseline (a logistic regression on format, quality and size features)
whose cross-validated AUC says how far a detector could get without looking at the pixels. A task whose
baseline AUC exceeds :data:`~harness.audit.report.FLAG_AUC` is flagged; ``spotfake run`` then warns once
and records the audit in ``results.json``.
"""
