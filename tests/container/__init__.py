"""The container smoke test's helpers (run by ``make container-test``, not by pytest)."""
