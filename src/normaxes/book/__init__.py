"""Book machinery: what builds, prints and checks the rendered book (not imported by chapters)."""
