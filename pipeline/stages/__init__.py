"""The pipeline's stages (preprocess, train, predict, evaluate), the open project they run on,
the checks made before the first write, the run ledger and the runner that orders them.

May import: every package but `pipeline.tools` and `pipeline.cli`."""
