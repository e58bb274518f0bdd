# Two commands for a fresh clone: `make demo` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLES := correct starter mistakes convention crashes slow

.PHONY: demo test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/grader validate rubrics/hw2.yaml
	@for example in $(EXAMPLES); do \
	  printf '%-12s ' "$$example:"; \
	  $(BIN)/grader grade rubrics/hw2.yaml submissions_example/hw2/$$example \
	    -o out/hw2/$$example/results.json --quiet || exit 1; \
	done
	@echo "results.json files are in out/hw2/; see one in full with:"
	@echo "  $(BIN)/grader grade rubrics/hw2.yaml submissions_example/hw2/mistakes"

test: $(STAMP)
	$(BIN)/python -m pytest -q
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) out .pytest_cache
