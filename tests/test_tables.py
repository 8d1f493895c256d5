"""normaxes.book.tables: the one table helper."""

import pytest

from normaxes.book.tables import markdown_table


@pytest.mark.parametrize("call, words", [
    (lambda: markdown_table([]), ["rows is empty"]),
    (lambda: markdown_table([{"a": 1}], ["a", "b"]), ["row 0", "b"]),
])
def test_bad_input_names_the_fault(call, words):
    with pytest.raises(ValueError) as err:
        call()
    for w in words:
        assert w in str(err.value)


def test_markdown_table_escapes_pipes():
    table = markdown_table([{"a": "x|y", "b": 1}])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| x\\|y | 1 |"]
