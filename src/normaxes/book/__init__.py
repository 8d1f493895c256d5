"""The book's machinery: the claims ledger, the cube figures, the one table helper, the Sphinx
extension the build loads, and the PDF printer (``make pdf``). Chapters use it; nothing in the
public core depends on it."""
