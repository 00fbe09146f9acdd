# make demo: set up .venv, generate the open world (scenes of seen and unseen classes, a tiny
# CLIP trained contrastively on all names), train CoSeg-Prefix on the seen classes only, test it
# on held-out scenes under all names (seen / unseen mIoU, hIoU), and draw a held-out scene whose
# unseen classes are named by words never trained on (docs/open_vocabulary.md).
# make demo-convergence: the closed-vocabulary convergence benchmark's demo (docs/convergence.md).
# make test: set up .venv and run the test suite; make test-quick: all but the tests marked slow
# (those that start the tools in subprocesses). Both run one pytest process per core with one
# torch thread each (TEST_THREADS): several processes each taking every core oversubscribe the
# CPU and run slower than one process alone.
PY := .venv/bin/python
DEMO_CONFIG := configs/coseg/open_world/coseg_prefix_set-matching_open-world.py
DEMO_DIR := work_dirs/demo_open_world
CONVERGENCE_CONFIG := configs/coseg/convergence/coseg_prefix_set-matching_convergence.py
CONVERGENCE_DIR := work_dirs/demo
CONVERGENCE_VOCAB := person,bicycle,car,bird,cat,dog,grass,road,sea,sky,tree,brick wall

.PHONY: env demo demo-convergence test test-quick clean

env:
	bash scripts/setup_env.sh

demo: env
	$(PY) tools/make_open_world_data.py --out data/open_world
	$(PY) tools/train.py $(DEMO_CONFIG) --work-dir $(DEMO_DIR)
	$(PY) tools/test.py $(DEMO_CONFIG) $$(cat $(DEMO_DIR)/last_checkpoint) --work-dir $(DEMO_DIR)
	$(PY) -m coseg_tools.open_world.demo_inputs --scenes data/open_world/scenes --out $(DEMO_DIR)
	$(PY) tools/demo.py $(DEMO_DIR)/scene.png --vocab @$(DEMO_DIR)/vocab.txt \
		--mark-unseen @$(DEMO_DIR)/unseen.txt --legend present --config $(DEMO_CONFIG) \
		--checkpoint $$(cat $(DEMO_DIR)/last_checkpoint) --out $(DEMO_DIR)/demo.png --show-slots

demo-convergence: env
	$(PY) tools/make_convergence_data.py --out data/convergence
	$(PY) tools/train.py $(CONVERGENCE_CONFIG) --work-dir $(CONVERGENCE_DIR)
	$(PY) tools/test.py $(CONVERGENCE_CONFIG) $$(cat $(CONVERGENCE_DIR)/last_checkpoint) \
		--work-dir $(CONVERGENCE_DIR)
	$(PY) tools/demo.py data/convergence/demo.jpg --vocab "$(CONVERGENCE_VOCAB)" \
		--config $(CONVERGENCE_CONFIG) --checkpoint $$(cat $(CONVERGENCE_DIR)/last_checkpoint) \
		--out $(CONVERGENCE_DIR)/demo.png --show-slots

TEST_THREADS := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

test: env
	$(TEST_THREADS) $(PY) -m pytest tests -n auto --durations=15

test-quick: env
	$(TEST_THREADS) $(PY) -m pytest tests -n auto -m "not slow"

clean:
	rm -rf work_dirs data/tiny data/convergence data/open_world
