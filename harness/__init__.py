"""spotfake's engine: samples, models, the runner, verdict parsing, metrics and the results schema.

The engine knows no dataset and no model by name; tasks and adapters reach it through the registries
in :mod:`harness.registry`.
"""

__version__ = "0.1.0"
