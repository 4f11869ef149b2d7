# Territory Workbench: the two commands of the README's quick start, and a few more.
#   make lab     set up .venv and start JupyterLab on notebooks/ with the bundled sample
#   make test    set up .venv with the test extra and run the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
# JupyterLab refuses to run as root unless told.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
LAB_FLAGS ?=
# Installs compile every module to bytecode: without it each `workbench` command compiled pandas, scikit-learn
# and the rest from source again (about 2 s of start-up), wherever PYTHONDONTWRITEBYTECODE keeps Python from
# caching what it compiled. The editable package itself is compiled too (a changed file is simply recompiled).
UV_INSTALL := $(UV) pip install --quiet --compile-bytecode --python $(PY)
COMPILE_PACKAGE := $(PY) -m compileall -q workbench

.PHONY: lab test setup setup-test sample report app bench clean-venv

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv

$(VENV)/.installed: pyproject.toml | $(PY)
	$(UV_INSTALL) -e .
	$(COMPILE_PACKAGE)
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(UV_INSTALL) -e '.[test]'
	$(COMPILE_PACKAGE)
	touch $@ $(VENV)/.installed

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test

lab: setup
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(ROOT_FLAG) $(LAB_FLAGS)

test: setup-test
	$(PY) -m pytest

# Rebuild the bundled sample data from ../shared/data (deterministic).
sample: setup
	$(PY) -m workbench.sample

# Execute the guided notebooks on the sample and write offline HTML (maps as embedded PNGs) to reports/.
report: setup
	$(PY) -m workbench.render_notebooks --out reports

# The comparison notebook as a Voila app for stakeholders (code hidden); installs the `app` extra.
# The `workbench` template (app/voila/templates) fetches nothing from the internet and hides the cells
# tagged `analyst`. Pass Voila flags with `make app APP_FLAGS="--port 8867 --no-browser"`.
app: setup
	$(UV_INSTALL) -e '.[app]'
	@test -x $(VENV)/bin/voila || { echo "make app: voila is not installed; the 'app' extra (voila>=0.5) is missing from pyproject.toml" >&2; exit 2; }
	JUPYTER_PATH="$(CURDIR)/app$${JUPYTER_PATH:+:$$JUPYTER_PATH}" $(VENV)/bin/voila notebooks/03_compare_alignments.ipynb --template=workbench $(APP_FLAGS)

bench: setup-test
	$(PY) -m benchmarks

clean-venv:
	rm -rf $(VENV)
