"""normaxes.book.bibstyle: author-year labels with letters for one author's works of one year,
and titles printed as written."""

from pybtex.database import parse_string

from normaxes.book.bibstyle import AuthorYearStyle, label_of

BIB = r"""
@misc{wu, title={Group Normalization}, author={Wu, Yuxin and He, Kaiming}, year={2018}}
@misc{ba, title={Layer Normalization}, author={Ba, Jimmy and Kiros, Jamie and Hinton, G.},
         year={2016}}
@misc{tgn, title={torch.nn.GroupNorm}, author={{PyTorch}}, year={2025}}
@misc{tln, title={torch.nn.LayerNorm}, author={{PyTorch}}, year={2025}}
@misc{aten, title={aten/src/ATen/native/cpu/group_norm_kernel.cpp}, author={{PyTorch}}}
@misc{llama, title={LLaMA}, author={Touvron, Hugo and others}, year={2023}}
@misc{tfa, title={tfa.layers.GroupNormalization}, author={{TensorFlow Addons Contributors}},
      year={2023}}
"""


def _labels():
    data = parse_string(BIB, "bibtex")
    style = AuthorYearStyle()
    formatted = style.format_entries(style.sort(data.entries.values()))
    return {e.key: (e.label, e.text.render_as("text")) for e in formatted}


def test_labels_are_authors_and_year():
    entries = parse_string(BIB, "bibtex").entries
    assert label_of(entries["wu"]) == "Wu & He 2018"
    assert label_of(entries["ba"]) == "Ba et al. 2016"
    assert label_of(entries["llama"]) == "Touvron et al. 2023"  # "and others"
    assert label_of(entries["tfa"]) == "TensorFlow Addons Contributors 2023"
    assert label_of(entries["aten"]) == "PyTorch n.d."


def test_one_authors_works_of_one_year_get_letters_and_titles_keep_their_capitals():
    labels = _labels()
    assert {labels["tgn"][0], labels["tln"][0]} == {"PyTorch 2025a", "PyTorch 2025b"}
    assert labels["tgn"][0] == "PyTorch 2025a"  # sorted by title within the label
    assert labels["wu"][0] == "Wu & He 2018"
    assert "aten/src/ATen/native/cpu/group_norm_kernel.cpp" in labels["aten"][1]
    assert "torch.nn.GroupNorm" in labels["tgn"][1]
