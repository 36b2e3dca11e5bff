"""Benchmark scripts: each measures the portal against baselines taken in the same run.

Run them with the project's virtualenv from the project root, e.g.
``.venv/bin/python -m bench.autosave --quick``. They print figures; they are not tests.
"""
