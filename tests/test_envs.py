"""normaxes.envs: snippets run in another environment, arrays in and out, clear errors.

Most tests use this very environment as the "other" one (its folder is sys.prefix), so that they
need no TensorFlow; the last ones run in the TF environment that `make test` builds.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

from normaxes import envs

HERE = envs.Env("here", sys.prefix, "install", "requirements.txt", "this test's own Python")


def test_arrays_go_in_and_come_back():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    y, n, word = envs.run_in(HERE, "y = x * 2\nn = x.shape[0]\nword = 'hi'", {"x": x},
                             returns=["y", "n", "word"])
    assert y.dtype == np.float32 and np.array_equal(y, 2 * x)
    assert int(n) == 3 and str(word) == "hi"
    # one name gives the array itself; no name gives an empty tuple
    assert np.array_equal(envs.run_in(HERE, "y = x + 1", {"x": x}, "y"), x + 1)
    assert envs.run_in(HERE, "pass") == ()


def test_each_snippet_gets_a_fresh_namespace():
    envs.run_in(HERE, "leftover = 1", returns=["leftover"])
    with pytest.raises(envs.SnippetError, match="leftover"):
        envs.run_in(HERE, "y = leftover", returns="y")


def test_the_worker_is_reused_and_prints_do_not_break_it():
    first = envs.run_in(HERE, "import os\npid = os.getpid()\nprint('noise')", returns="pid")
    second = envs.run_in(HERE, "import os\npid = os.getpid()", returns="pid")
    assert int(first) == int(second)


def test_an_error_in_the_snippet_is_reported_with_its_traceback():
    with pytest.raises(envs.SnippetError, match=r"(?s)'here' environment raised.*ZeroDivision"):
        envs.run_in(HERE, "y = 1 / 0", returns="y")
    # the worker survives it
    assert int(envs.run_in(HERE, "y = 7", returns="y")) == 7


def test_a_missing_return_and_an_object_are_refused():
    with pytest.raises(envs.SnippetError, match="did not define z"):
        envs.run_in(HERE, "y = 1", returns=["z"])
    with pytest.raises(envs.SnippetError, match="not an array of numbers or strings: y"):
        envs.run_in(HERE, "y = {'a': 1}", returns="y")


def test_the_time_is_bounded():
    with pytest.raises(envs.SnippetError, match="within timeout=0.5 s"):
        envs.run_in(HERE, "import time\ntime.sleep(30)", timeout=0.5)
    # a new worker answers the next call
    assert int(envs.run_in(HERE, "y = 1", returns="y")) == 1


def test_a_worker_that_dies_is_reported_and_replaced():
    with pytest.raises(envs.SnippetError, match="worker process ended"):
        envs.run_in(HERE, "import os\nos._exit(3)")
    assert int(envs.run_in(HERE, "y = 2", returns="y")) == 2


def test_a_missing_environment_names_the_make_target(tmp_path):
    gone = envs.Env("gone", str(tmp_path / "nothing"), "env-gone", "requirements-gone.txt", "-")
    with pytest.raises(envs.EnvMissing, match=r"'gone' environment .* `make env-gone`"):
        envs.run_in(gone, "y = 1", returns="y")
    with pytest.raises(ValueError, match=r"env must be one of \['tf'\], got 'tensorflow'"):
        envs.run_in("tensorflow", "y = 1")


SKIP_TF = "skipped: needs the TensorFlow environment; run `make env-tf` (about 1.3 GB)"


@pytest.fixture
def no_tf(tmp_path, monkeypatch):
    """.venv-tf made absent for this test, as on Colab: NORMAXES_ENV_TF names an empty folder."""
    monkeypatch.setenv("NORMAXES_ENV_TF", str(tmp_path / "no-venv-tf"))
    return tmp_path / "no-venv-tf"


def test_the_variable_names_the_folder_and_is_read_at_each_call(no_tf, monkeypatch):
    assert envs.folder_of("tf") == no_tf and not envs.available("tf")
    with pytest.raises(envs.EnvMissing, match="NORMAXES_ENV_TF names") as err:
        envs.python_of("tf")
    assert err.value.env is envs.ENVS["tf"] and err.value.skip_line == SKIP_TF
    assert envs.skip_line("tf") == SKIP_TF
    # an environment built elsewhere: this test's own Python stands for it
    monkeypatch.setenv("NORMAXES_ENV_TF", sys.prefix)
    assert envs.available("tf") and envs.python_of("tf").parent.parent == Path(sys.prefix)
    # unset or empty: the repository's .venv-tf
    monkeypatch.setenv("NORMAXES_ENV_TF", "")
    assert envs.folder_of("tf") == envs.ROOT / ".venv-tf"
    monkeypatch.delenv("NORMAXES_ENV_TF")
    assert envs.folder_of("tf") == envs.ROOT / ".venv-tf"


def test_needs_prints_one_line_and_the_cell_goes_on(no_tf, capsys):
    ran = []
    with envs.needs("tf") as block:
        ran.append("before")
        envs.run_in("tf", "y = 1", returns="y")
        ran.append("after")  # never reached: the block ends at the missing environment
    ran.append("next")
    assert ran == ["before", "next"] and block.skipped
    assert capsys.readouterr().out == SKIP_TF + "\n"
    # one object for several blocks (a loop): the line once
    part = envs.needs("tf")
    for _ in range(3):
        with part:
            envs.run_in("tf", "y = 1", returns="y")
    assert capsys.readouterr().out == SKIP_TF + "\n"


def test_needs_lets_every_other_error_through(no_tf, tmp_path, capsys):
    gone = envs.Env("gone", str(tmp_path / "nothing"), "env-gone", "requirements-gone.txt", "-")
    with pytest.raises(envs.EnvMissing, match="'gone' environment"), envs.needs("tf"):
        envs.run_in(gone, "y = 1")  # another environment: not the one the block needs
    with pytest.raises(envs.SnippetError, match="ZeroDivision"), envs.needs(HERE):
        envs.run_in(HERE, "y = 1 / 0", returns="y")  # the environment is there, the code fails
    with pytest.raises(KeyError), envs.needs("tf"):
        raise KeyError("x")
    assert capsys.readouterr().out == ""


def test_where_the_environment_is_built_needs_changes_nothing(capsys):
    with envs.needs(HERE) as block:
        y = envs.run_in(HERE, "y = 3", returns="y")
    assert int(y) == 3 and not block.skipped and capsys.readouterr().out == ""


def _displayed(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj.data))
    return shown


def test_a_claim_that_needs_tf_is_skipped_never_held(no_tf, monkeypatch):
    from normaxes.book import ledger

    shown = _displayed(monkeypatch)
    ledger.verdicts(["fig3-tf-img", "ln-seq-torch"])
    ledger.verdict("fig3-tf-seq")
    ledger.show("tfa-gn-default-seq", fold=True)
    table, line, block = shown
    skipped = "**skipped**: " + SKIP_TF.removeprefix("skipped: ")
    rows = table.splitlines()[2:]
    assert skipped in rows[0] and "**equal**" not in rows[0]
    assert "**equal**" in rows[1] and "skipped" not in rows[1]  # the other claim still runs
    assert line.endswith(f"([B,T,F]): {skipped}.")
    assert block.endswith(skipped + ".") and "```python" in block and "Measured" not in block
    r = ledger.check("fig3-tf-img", skip_missing=True)
    assert isinstance(r, ledger.Skipped) and not r.holds and r.verdict == "skipped"
    # the tests' own path never skips: run and check raise
    with pytest.raises(envs.EnvMissing):
        ledger.check("fig3-tf-img")
    with pytest.raises(envs.EnvMissing):
        ledger.run("fig3-tf-img")


def test_run_all_leaves_out_what_it_cannot_run_and_says_so(no_tf, capsys):
    from normaxes.book import ledger

    with pytest.raises(envs.EnvMissing):
        ledger.run_all("frameworks")
    results = ledger.run_all("frameworks", skip_missing=True)
    out = capsys.readouterr().out.splitlines()
    (line,) = out
    names = line.split("(")[-1].rstrip(")").split(", ")
    assert line.startswith(SKIP_TF + f": {len(names)} claims not run (fig3-tf-img, ")
    assert results and all(r.holds for r in results)
    assert not {r.claim.name for r in results} & set(names)
    assert len(results) + len(names) == len(ledger.claims("frameworks"))
    assert [s.claim.name for s in results.skipped] == names
    # the ledger page's table lists them, each marked skipped with the reason, none as holding
    text = ledger.chapter_tables(results, {"frameworks": "frameworks"}, link=True)
    head, _, *rows = text.split("\n\n", 1)[1].splitlines()
    assert text.startswith(f"**{{doc}}`frameworks`**: {len(results) + len(names)} claims, "
                           f"{len(results)} hold, {len(names)} skipped.")
    marked = [row for row in rows if row.startswith("| **skipped** |")]
    assert len(marked) == len(names) and all(SKIP_TF.removeprefix("skipped: ") in row
                                              for row in marked)
    assert all(any(f"`{n} <claim-{n}>`" in row for row in marked) for n in names)


def test_with_tf_built_the_claims_that_need_it_are_measured(monkeypatch, capsys):
    """Where .venv-tf exists (make test), nothing is skipped: the same calls measure."""
    from normaxes.book import ledger

    assert envs.available("tf"), "make test builds .venv-tf first (make env-tf)"
    shown = _displayed(monkeypatch)
    ledger.verdicts(["fig3-tf-img"])
    ledger.verdict("tfa-gn-default-seq")
    assert "**equal**" in shown[0] and "**equal**" in shown[1]
    assert not any("skipped" in s for s in shown)
    with envs.needs("tf") as block:
        envs.run_in("tf", "y = 1", returns="y")
    assert not block.skipped and capsys.readouterr().out == ""


def test_bad_names_are_refused():
    with pytest.raises(ValueError, match="'not a name' is not a valid variable name"):
        envs.run_in(HERE, "y = 1", {"not a name": 1})


def test_the_tf_environment_has_the_pinned_versions():
    versions = envs.run_in("tf", """
        import numpy, tensorflow as tf, tensorflow_addons as tfa
        versions = f"{tf.__version__} {tfa.__version__} {numpy.__version__}"
    """, returns="versions")
    tf_version, tfa_version, np_version = str(versions).split()
    assert (tf_version, tfa_version) == ("2.15.1", "0.23.0") and np_version.startswith("1.")


def test_chapter_helpers_read_layers_in_the_tf_environment():
    from normaxes import standardize
    from normaxes.chapters.frameworks import in_tf, tf_defaults

    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32)
    y = in_tf("tf.keras.layers.LayerNormalization(epsilon=1e-5)")(x)
    assert np.abs(y - standardize(x, "B T F", over="F", eps=1e-5)).max() < 1e-5
    assert tf_defaults("tfa.layers.GroupNormalization", "groups")["groups"] == 32
    with pytest.raises(envs.SnippetError, match="has no parameter nope"):
        tf_defaults("tf.keras.layers.LayerNormalization", "nope")


def test_sentence_with_finds_the_sentence_across_lines():
    from normaxes.chapters.frameworks import sentence_with

    text = "First one.\n  Then, with one group, it\n  becomes identical. Last."
    assert sentence_with(text, "one group") == "Then, with one group, it becomes identical."
    with pytest.raises(ValueError, match="no sentence of the text contains 'absent'"):
        sentence_with(text, "absent")


def teardown_module():
    envs.stop()
