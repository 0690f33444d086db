"""The web console: a review surface in the browser (FastAPI, Jinja2, plain JavaScript)."""
