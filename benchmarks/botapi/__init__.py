"""A local stand-in for the Telegram Bot API and a harness that runs the real bot against it.

Used by the tests (``tests/``) and by the Telegram benchmark (``python -m benchmarks.telegram``);
it lives here so that neither imports the other.
"""
