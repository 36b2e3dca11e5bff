# The two commands of the README. Everything else lives in scripts/ so CI calls the same thing.
.PHONY: run test install lint format

run:            ## install everything and start the portal on http://127.0.0.1:8000 (SQLite)
	scripts/run

test:           ## install what the tests need and run lint + the suite on SQLite and PostgreSQL
	scripts/test

install:
	scripts/install --test

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

format:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .
