"""The web console: a review surface in the browser (sign-in lives in ``_oauth.py``)."""
