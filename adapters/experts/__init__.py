"""Expert real/fake classifiers (CNNSpot, UnivFD, NPR): adapters that load the authors' checkpoints
safely and give p(fake), and their training (``spotfake train classifier``)."""
