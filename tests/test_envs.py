"""normaxes.envs: snippets run in another environment, arrays in and out, clear errors.

Most tests use this very environment as the "other" one (its folder is sys.prefix), so that they
need no TensorFlow; the last ones run in the TF environment that `make test` builds.
"""

import sys

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
