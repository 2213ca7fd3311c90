# Two commands for a newcomer:  make demo  |  make test
# Each creates .venv and installs the package with what it needs.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO := demo-output

.PHONY: demo test native-dev native-test venv runners flink-job-server prism bench lint clean

# The install builds the native core (native/, Rust) when cargo is on PATH; STELLAR_ARCHIVE_NATIVE=1 then
# makes a failed Rust build fail the install instead of leaving a pure-Python package.
NATIVE_SOURCES := $(wildcard native/Cargo.toml native/Cargo.lock native/src/*.rs native/src/*/*.rs native/src/*/*/*.rs)
CARGO := $(shell command -v cargo 2>/dev/null)
NATIVE_SWITCH := $(if $(CARGO),1,auto)

$(VENV)/.installed: setup.py pyproject.toml $(NATIVE_SOURCES)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	STELLAR_ARCHIVE_NATIVE=$(NATIVE_SWITCH) nice $(PY) -m pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

demo: venv
	rm -rf $(DEMO)
	$(PY) -m beam_pipeline sample --out $(DEMO)/datastore
	$(PY) -m beam_pipeline run --config config/examples/demo.yaml
	$(PY) -m beam_pipeline query --sql "SELECT date_trunc('hour', closed_at) AS hour, count(*) AS ledgers, \
	  sum(operation_count) AS operations FROM ledgers GROUP BY 1 ORDER BY 1" --root $(DEMO)/archive

# The real runners of tests/runners/ (docs/deploy.md), built into a git-ignored cache from the
# registries (Maven, the Go module proxy); a target whose file exists is not fetched again.
RUNNERS := .cache/runners
FLINK_VERSION ?= 1.19
BEAM_FLINK_VERSION ?= 2.62.0
BEAM_VERSION ?= 2.77.0
FLINK_JOB_SERVER := $(RUNNERS)/flink-$(FLINK_VERSION)-beam-$(BEAM_FLINK_VERSION)/job-server.jar
PRISM := $(RUNNERS)/prism-$(BEAM_VERSION)/prism
export BEAM_PIPELINE_FLINK_JOB_SERVER_JAR := $(abspath $(FLINK_JOB_SERVER))
export BEAM_PIPELINE_PRISM := $(abspath $(PRISM))
export BEAM_PIPELINE_FLINK_VERSION := $(FLINK_VERSION)

$(FLINK_JOB_SERVER): templates/flink/pom.xml templates/flink/fetch-job-server.sh
	nice templates/flink/fetch-job-server.sh $(dir $@) $(FLINK_VERSION) $(BEAM_FLINK_VERSION)

$(PRISM):
	GOBIN=$(abspath $(dir $@)) nice go install github.com/apache/beam/sdks/v2/go/cmd/prism@v$(BEAM_VERSION)

flink-job-server: $(FLINK_JOB_SERVER)
prism: $(PRISM)
runners: flink-job-server prism

test: venv runners
	STELLAR_ARCHIVE_NATIVE=$(NATIVE_SWITCH) $(PY) -m pytest -q

# While working on the crate: an incremental build without LTO (profile dev-native), put in place for the
# checkout's own package (PYTHONPATH=. or an editable install). Moved, not copied over: a running process keeps
# the module it loaded.
native-dev:
	cd native && PYO3_PYTHON=$(abspath $(PY)) nice cargo build --quiet --profile dev-native --features extension-module
	cp native/target/dev-native/lib_native.so beam_pipeline/_native.abi3.so.new
	mv -f beam_pipeline/_native.abi3.so.new beam_pipeline/_native.abi3.so

# The pure Rust unit tests of the native core (strkeys, base64, Go strings, ScVal numbers, decode limits).
# Not part of `make test`: linking their binary with LTO takes minutes on 2 cores, and tests/test_native.py
# already proves the built extension equal to the Python path on every data store.
native-test:
ifneq ($(CARGO),)
	cd native && nice cargo test --release --quiet
else
	@echo "cargo not found: skipping the native core's Rust tests"
endif

bench: venv
	$(PY) -m benchmarks

lint: venv
	$(PY) -m pip install --quiet ruff
	$(PY) -m ruff check beam_pipeline tests
ifneq ($(CARGO),)
	cd native && cargo fmt --check && cargo clippy --release --all-targets --features python -- -D warnings
endif

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache  # .cache/runners stays: refetching costs minutes
