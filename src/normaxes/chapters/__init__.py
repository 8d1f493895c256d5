"""Helpers of single chapters: one module per chapter, named like its claims module."""
