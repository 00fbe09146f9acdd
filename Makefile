# make demo: set up .venv, build tiny assets, train the tiny CoSeg-Prefix, evaluate it, draw it.
# make test: set up .venv and run the test suite.
PY := .venv/bin/python
TINY_CONFIG := configs/tiny/coseg_prefix_tiny_cocostuff.py
DEMO_DIR := work_dirs/demo

.PHONY: env demo test clean

env:
	bash scripts/setup_env.sh

demo: env
	$(PY) tools/make_tiny_assets.py --out data/tiny
	$(PY) tools/train.py $(TINY_CONFIG) --work-dir $(DEMO_DIR)
	$(PY) tools/test.py $(TINY_CONFIG) $(DEMO_DIR)/iter_300.pth --work-dir $(DEMO_DIR)
	$(PY) tools/demo.py data/tiny/demo.jpg --vocab "grass,sea,road,person,car,dog" \
		--config $(TINY_CONFIG) --checkpoint $(DEMO_DIR)/iter_300.pth --out $(DEMO_DIR)/demo.png --show-slots

test: env
	$(PY) -m pytest tests

clean:
	rm -rf work_dirs data/tiny
