"""The end-to-end scenarios, written once and run on every surface."""
