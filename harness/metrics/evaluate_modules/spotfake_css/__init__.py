"""The ``spotfake_css`` evaluate module (the script is ``spotfake_css.py`` beside this file)."""
