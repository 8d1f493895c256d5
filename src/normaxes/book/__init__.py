"""Book machinery: what builds, checks and ships the book, not what its chapters teach."""
