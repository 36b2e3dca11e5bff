"""Command-line options every benchmark takes: which database, where to write figures and logs."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.dataset import DEFAULT_POSTGRES_ADMIN_URL


def add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_ADMIN_URL,
        help="a PostgreSQL database to connect to while creating and dropping the throwaway one",
    )
    parser.add_argument("--logs", type=Path, help="keep the servers' output in this folder")
