"""Task definitions (YAML in ``tasks/definitions``) and the readers of each published format."""
