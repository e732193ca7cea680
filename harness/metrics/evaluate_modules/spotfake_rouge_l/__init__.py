"""The ``spotfake_rouge_l`` evaluate module (the script is ``spotfake_rouge_l.py`` beside this file)."""
