# make demo: set up .venv, generate the convergence benchmark (scenes + tiny CLIP), train
# CoSeg-Prefix on it, evaluate it on the held-out scenes, segment a held-out scene and draw it.
# make test: set up .venv and run the test suite; make test-quick: all but the tests marked slow
# (those that start the tools in subprocesses).
PY := .venv/bin/python
DEMO_CONFIG := configs/coseg/convergence/coseg_prefix_set-matching_convergence.py
DEMO_DIR := work_dirs/demo
DEMO_VOCAB := person,bicycle,car,bird,cat,dog,grass,road,sea,sky,tree,brick wall

.PHONY: env demo test test-quick clean

env:
	bash scripts/setup_env.sh

demo: env
	$(PY) tools/make_convergence_data.py --out data/convergence
	$(PY) tools/train.py $(DEMO_CONFIG) --work-dir $(DEMO_DIR)
	$(PY) tools/test.py $(DEMO_CONFIG) $$(cat $(DEMO_DIR)/last_checkpoint) --work-dir $(DEMO_DIR)
	$(PY) tools/demo.py data/convergence/demo.jpg --vocab "$(DEMO_VOCAB)" --config $(DEMO_CONFIG) \
		--checkpoint $$(cat $(DEMO_DIR)/last_checkpoint) --out $(DEMO_DIR)/demo.png --show-slots

test: env
	$(PY) -m pytest tests

test-quick: env
	$(PY) -m pytest tests -m "not slow"

clean:
	rm -rf work_dirs data/tiny data/convergence
