"""FakeVLM: LLaVA-1.5 fine-tuned on FakeClue, evaluated with its published protocol."""
