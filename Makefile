# The two commands of the README: `make run` (default study on the offline corpus) and `make test`.
PY := .venv/bin/python

.PHONY: setup run test test-fast
setup:
	bash scripts/setup.sh

run: setup
	$(PY) -m platform.tune --study syncgan_semi

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"
