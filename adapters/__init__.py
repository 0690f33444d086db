"""Platform adapters: translate platform events to neutral requests, and effects back.

One package per chat platform (``discord_adapter/``, ``slack_adapter/``) with the same private
module names for the same jobs, the terminal in ``terminal.py``, and the logic they all share
in ``_review.py``, the only module adapters have in common.
"""
