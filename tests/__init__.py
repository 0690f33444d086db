"""Tests for jokebot."""
