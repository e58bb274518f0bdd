# Two commands for a fresh clone: `make demo` and `make test`. Both create .venv first.
# `make check` is the everyday tier (under a minute): static checks and the in-process tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLES := hw2/correct hw2/starter hw2/mistakes hw2/convention hw2/crashes hw2/slow \
            hw2/notebook hw2/answers_yaml hw2/sheet_typed hw2/sheet_mistakes hw2/sheet_convention \
            hw2/sheet_tex hw2/sheet_notebook hw2/sheet_ocr midterm/correct midterm/starter \
            midterm/mistakes midterm/sheet_ocr

.PHONY: demo check test static clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,torch]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/grader validate rubrics/hw2.yaml
	$(BIN)/grader validate rubrics/midterm.yaml
	@for example in $(EXAMPLES); do \
	  printf '%-19s ' "$$example:"; \
	  $(BIN)/grader grade rubrics/$${example%%/*}.yaml submissions_example/$$example \
	    -o out/$$example/results.json --quiet || exit 1; \
	done
	@echo "results.json files are in out/; see one in full with:"
	@echo "  $(BIN)/grader grade rubrics/hw2.yaml submissions_example/hw2/mistakes"
	@echo "grading the HW2 examples as one class (each sub-folder is a student):"
	$(BIN)/grader batch rubrics/hw2.yaml submissions_example/hw2 -o out/hw2-class

# report.html is tested in a real headless Chromium (Debian's package); installed when possible.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  { apt-get install -y -q chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }; }; } || \
	  echo "chromium is not installed: the browser test of report.html will be skipped"

# Lint, formatting, the import layers (ARCHITECTURE.md) and strict types.
static: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

# Both tiers run in TEST_WORKERS processes (pytest-xdist, a file's tests in one process): every
# sandbox session claims a uid of its own (grader/sandbox/identities.py), so concurrent tests'
# gradings never end each other's children.
TEST_WORKERS ?= 2
PARALLEL = -n $(TEST_WORKERS) --dist loadfile

check: static
	$(BIN)/python -m pytest -q $(PARALLEL) -m "not (sandbox or browser or venv or slow)"

# As root, the security tests add a temporary system user (and say so first): see tests/machine.py.
test: static browser
	@[ "$$(id -u)" != 0 ] || echo "note: running as root, the security tests add a temporary system \
	user (grader-sectest-<pid>, useradd --system --no-create-home), deleted when they end, and make \
	the folders leading to the Python interpreter searchable (o+x) by other users until then"
	$(BIN)/python -m pytest -q $(PARALLEL)

clean:
	rm -rf $(VENV) out .pytest_cache
