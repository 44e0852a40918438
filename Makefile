# cogo_pipelines — see README.md. Everything installs from this file and pyproject.toml.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
COGO_HOME ?= .cogo
SAMPLE ?= examples/cogo-sample
PORT ?= 3100
DAGSTER_PORT ?= 3000
# The project's Dagster instance (dagster dev, the gate run, and `cogo index`'s reports to it).
# Given only to the commands that use it, so `make test` never writes into it.
DAGSTER_HOME := $(abspath $(COGO_HOME))/dagster
unexport DAGSTER_HOME
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export COGO_HOME

STAMP := $(VENV)/.installed

.PHONY: setup run sample-loop stop stop-services test bench serve dagster reset-store validate lint clean

$(STAMP): pyproject.toml Makefile
	@echo "setup: installing torch (the CPU wheel) and the project into $(VENV): minutes on a first install"
	$(PYTHON) -m venv $(VENV)
	# torch first: the CPU wheel of exactly this version; any other pulls CUDA builds.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The default embedding model: distilled once, offline, from the packaged MiniLM (~1 min on 2
# cores) into $(COGO_HOME)/models, so no index or search ever waits for it (docs/RAG.md).
STATIC_MODEL := $(COGO_HOME)/models/minilm-static/cogo.json

$(STATIC_MODEL): $(STAMP)
	@echo "setup: distilling the static embedding model once, offline, into $(COGO_HOME)/models (1-2 min)"
	$(BIN)/python -m cogo_pipelines.indexing.static_embedding

# The transformer (summaries, EMBEDDING_MODEL=minilm) exported once to ONNX, so warm processes
# run it without torch (indexing/transformer_onnx.py; ~15 s).
ONNX_MODEL := $(COGO_HOME)/models/onnx/exported.txt

$(ONNX_MODEL): $(STAMP)
	@echo "setup: exporting the MiniLM transformer once to ONNX into $(COGO_HOME)/models/onnx"
	HF_HUB_OFFLINE=1 $(BIN)/python -m cogo_pipelines.indexing.transformer_onnx

setup: $(STAMP) $(STATIC_MODEL) $(ONNX_MODEL)  ## create .venv, install everything, distil the static model, export the transformer

# the project's Dagster instance settings (no first-run modal, no telemetry)
$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(@D) && cp dagster.yaml $@

# gate_fix links name the sidecar `make run` starts
run sample-loop: export METRICS_PORT = $(PORT)

run: setup $(DAGSTER_HOME)/dagster.yaml  ## index the sample, run its quality plan and gate, start the sidecar and dagster dev
	@mkdir -p $(COGO_HOME)/logs $(COGO_HOME)/run
	@# with DAGSTER_HOME, the index run shows in Dagster as the sample's partition, materialised
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/cogo index $(SAMPLE)
	@# -o setup: done above (MAKEFLAGS does not carry -o, so a `make -o setup run` would redo it here)
	@$(MAKE) --no-print-directory -o setup sample-loop
	@$(MAKE) --no-print-directory stop-services >/dev/null 2>&1 || true
	@# each service in a process group of its own (job control, `set -m`), so `make stop` can
	@# interrupt the whole group as Ctrl-C would; without job control a background job ignores
	@# SIGINT, and dagster dev then never shuts down (it was killed after 10 s)
	@set -m; nohup $(BIN)/cogo serve --port $(PORT) >$(COGO_HOME)/logs/serve.log 2>&1 </dev/null & echo $$! >$(COGO_HOME)/run/serve.pid
	@set -m; DAGSTER_HOME=$(DAGSTER_HOME) nohup $(BIN)/dagster dev -w workspace.yaml -p $(DAGSTER_PORT) \
		>$(COGO_HOME)/logs/dagster.log 2>&1 </dev/null & echo $$! >$(COGO_HOME)/run/dagster.pid
	@for i in $$(seq 1 60); do curl -fsS http://127.0.0.1:$(PORT)/healthz >/dev/null 2>&1 && break; sleep 0.5; done
	@echo ""
	@echo "  sidecar    http://127.0.0.1:$(PORT)/dashboard/local   (metrics: /metrics, API: /api/openapi.json)"
	@echo "  dagster    http://127.0.0.1:$(DAGSTER_PORT)            (logs: $(COGO_HOME)/logs/dagster.log)"
	@echo "  stop both  make stop"

sample-loop: setup $(DAGSTER_HOME)/dagster.yaml  ## the main loop on the sample: plan its quality jobs, a local cogo-work runner builds them, the gate scores them
	@# examples/sample-quality-plan.json: three real Node 20 commands, one failing on purpose (a real bug
	@# in backoffDelay's jitter), so the gate fails and gate_fix has something to explain.
	@# the plan's id keys its gate run (plan:<id>): q1_gate_job below reports that run (run_key), no second point
	@mkdir -p $(COGO_HOME)/run
	plan=$$($(BIN)/cogo jobs enqueue plan.quality --executor-id cogo-plan --payload "$$(cat examples/sample-quality-plan.json)") \
		&& echo "$$plan" && printf 'ops:\n  q1_gate:\n    config:\n      run_key: "plan:%s"\n' "$$plan" >$(COGO_HOME)/run/q1_gate_job.yaml
	$(BIN)/cogo runner --executor-id cogo-plan --include-types plan.quality --exit-when-idle --batch 4
	$(BIN)/cogo runner --executor-id cogo-work --exit-when-idle --batch 4
	$(BIN)/cogo runner --executor-id cogo-plan --include-types quality.q1 --exit-when-idle --batch 4
	@$(BIN)/cogo jobs list --limit 6
	@# the same gate run as a Dagster run (q1_gate_job, reporting the run the queue recorded under its
	@# run key: one point in the Q1 trend), a run in the Dagster UI, its log in logs/
	@mkdir -p $(COGO_HOME)/logs
	-@echo "Q1 gate as a Dagster run (q1_gate_job, log: $(COGO_HOME)/logs/q1_gate_job.log):"; \
		DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dagster job execute -m cogo_pipelines.definitions -j q1_gate_job \
		-c $(COGO_HOME)/run/q1_gate_job.yaml >$(COGO_HOME)/logs/q1_gate_job.log 2>&1; rc=$$?; \
		verdict=$$(sed -n 's/.* - q1_gate - \([A-Z][A-Z ]*: .*\)/  \1/p' $(COGO_HOME)/logs/q1_gate_job.log | head -n 1); \
		if [ -n "$$verdict" ]; then echo "$$verdict"; else tail -n 5 $(COGO_HOME)/logs/q1_gate_job.log; exit $$rc; fi; \
		if [ $$rc -ne 0 ]; then echo "  (the Dagster run failed because the gate did, as intended: one of the sample's tests fails on purpose)"; fi

stop: stop-services  ## stop what make run started: its services, the warm `cogo search`, then the embedded store
	@$(BIN)/python -c "from cogo_pipelines import warm_search; warm_search.stop() and print('stopped the warm cogo search')" 2>/dev/null; true
	@# the embedded PostgreSQL (started by the first cogo command, in a session of its own): fast shutdown
	@pid=$$(head -n 1 $(COGO_HOME)/pg/postmaster.pid 2>/dev/null); \
		if [ -n "$$pid" ] && ps -o command= -p $$pid 2>/dev/null | grep -q postgres; then kill -INT $$pid; \
		for i in $$(seq 1 40); do kill -0 $$pid 2>/dev/null || break; sleep 0.5; done; fi; true

stop-services:  ## stop the sidecar and dagster dev (the process group of each: SIGINT, SIGKILL after 10 s)
	@for f in $(COGO_HOME)/run/*.pid; do [ -f $$f ] || continue; pid=$$(cat $$f); name=$$(basename $$f .pid); \
		if kill -INT -- -$$pid 2>/dev/null || kill -INT $$pid 2>/dev/null; then how=stopped; \
		for i in $$(seq 1 20); do kill -0 -- -$$pid 2>/dev/null || break; sleep 0.5; done; \
		kill -KILL -- -$$pid 2>/dev/null && how=killed; echo "$$how $$name (process group $$pid)"; fi; \
		rm -f $$f; done; true

test: setup  ## run the whole test suite
	$(BIN)/python -m pytest -q

bench: setup  ## run the benchmarks (see bench/README.md)
	$(BIN)/python bench/retrieval_eval.py $(SAMPLE) bench/questions/cogo-sample.tsv
	$(BIN)/python bench/queue_throughput.py

serve: setup
	$(BIN)/cogo serve --port $(PORT)

dagster: setup $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dagster dev -w workspace.yaml -p $(DAGSTER_PORT)

validate: setup  ## load the definitions as Dagster does (`dg check defs`: 1.13's successor of `dagster definitions validate`)
	VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/dg check defs

lint: setup
	$(BIN)/ruff check cogo_pipelines cogo_pipelines_tests bench

reset-store:  ## delete the embedded Postgres (asks first)
	@read -p "Delete $(COGO_HOME)/pg (all indexed data, jobs, gate history)? [y/N] " a; [ "$$a" = y ] && rm -rf $(COGO_HOME)/pg && echo deleted || echo kept

clean: stop
	rm -rf $(VENV) *.egg-info
