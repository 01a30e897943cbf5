"""Offline question answering over video transcripts, with checked citations."""

__version__ = "0.1.0"
