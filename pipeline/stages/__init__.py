"""The pipeline's stages (preprocess, train, predict, evaluate), declared once with what each
reads and writes (spec.py), the open project they run on, what they share (common.py,
estimator.py), the checks made before the first write (checks.py, contracts.py, names.py), the
run ledger and the runner that orders them. A stage module never imports another.

May import: every package but `pipeline.tools` and `pipeline.cli`."""
