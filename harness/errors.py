"""User-facing errors: one clear line, exit code 2, no traceback (the CLI catches these)."""


class SpotfakeError(Exception):
    """Bad input or configuration; the message names the file, the sample and the fix."""

    exit_code = 2
