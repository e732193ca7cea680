"""Suites: a paper's whole benchmark table as one named set of tasks (``spotfake run --suite NAME``).

A suite is a YAML file like a task (``name``, ``description``, ``papers``, ``metrics``, ``entries``: each a
task, its arguments and optionally the breakdown that makes its rows, e.g. one row per generator); the
table it prints has one row per entry (or per breakdown value) and, across the rows, the mean, the standard
deviation and the minimum of each metric: the worst generator that DDA reports beside the mean.
"""
