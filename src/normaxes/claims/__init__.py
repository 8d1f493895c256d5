"""The book's claims, one module per chapter; :mod:`normaxes.ledger` imports every module here."""
