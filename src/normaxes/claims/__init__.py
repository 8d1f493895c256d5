"""The book's claims, one module per chapter; :mod:`normaxes.book.ledger` imports every module
here."""
