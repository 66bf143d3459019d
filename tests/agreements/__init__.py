"""Tests of the documents library (agreements/)."""
