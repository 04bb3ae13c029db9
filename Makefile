# Two commands for a newcomer: `make demo` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STORE := build/demo-store
DEMO_OUT := build/demo

.PHONY: demo test lint bench clean venv

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@rm -rf $(DEMO_STORE) && mkdir -p $(DEMO_OUT)
	$(BIN)/imr-graph parse examples/*.txt --format jsonl > $(DEMO_OUT)/records.jsonl
	@echo "parsed $$(wc -l < $(DEMO_OUT)/records.jsonl) letters -> $(DEMO_OUT)/records.jsonl"
	$(BIN)/imr-graph ingest examples/ --store $(DEMO_STORE)
	$(BIN)/imr-graph query most-disputed-services --store $(DEMO_STORE)
	$(BIN)/imr-graph query overturn-rate-by-mtus-section --store $(DEMO_STORE)
	$(BIN)/imr-graph query cases-citing-section --param section=implantable --store $(DEMO_STORE)
	$(BIN)/imr-graph export --store $(DEMO_STORE) --format html --out $(DEMO_OUT)/graph.html
	$(BIN)/imr-graph link --store $(DEMO_STORE)
	$(BIN)/imr-graph link-report --store $(DEMO_STORE)
	$(BIN)/imr-graph query overturn-rate-by-icd10-chapter --store $(DEMO_STORE)
	$(BIN)/imr-graph report --store $(DEMO_STORE) --out $(DEMO_OUT)/report
	@echo "graph viewer: $(DEMO_OUT)/graph.html   report: $(DEMO_OUT)/report/index.html (open them in a browser)"

test: $(STAMP)
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-virtuoso.sh
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf build .pytest_cache
