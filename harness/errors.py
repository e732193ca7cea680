"""User-facing errors: one clear line, exit code 2, no traceback (the CLI catches these); and the error of
one sample, which the runner records before going on."""


class SpotfakeError(Exception):
    """Bad input or configuration; the message names the file, the sample and the fix."""

    exit_code = 2


class SampleError(Exception):
    """A problem with one sample (missing or corrupt image); the runner records it and goes on."""
