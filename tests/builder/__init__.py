"""Tests of the timeline builder (issue #11)."""
