"""The book's machinery: the claims ledger, the cube figures, the one table helper, and the Sphinx
extension the build loads. Chapters use it; nothing in the public core depends on it."""
