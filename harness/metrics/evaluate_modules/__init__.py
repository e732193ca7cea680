"""spotfake's metrics as Hugging Face ``evaluate`` modules; load them with
``evaluate.load(harness.metrics.evaluate_module_path("spotfake_rouge_l"))`` (works offline)."""
