"""Model adapters: one wrapper per model family, registered in :mod:`adapters.registry`."""
