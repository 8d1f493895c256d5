"""The exercises of the chapter "Numerics of the statistics": the checkers of their answers."""

from __future__ import annotations

import math

from . import exercise, same_choice, same_value

# --- 11.1: which formula loses the variance at mean 10^4 in float32 --------------------------

OPTIONS_111 = {
    "two-pass": "the mean first, then the deviations: both exact enough at any mean",
    "one-pass": None,
    "welford": "Welford's update subtracts the running mean before it squares: it keeps the "
               "digits, like two passes",
}


@exercise("numerics", 1, solution="one-pass", wrong=["two-pass", "welford"],
          right_because="E[x²] and E[x]² are near 10^8, where float32 numbers are 8 apart: "
                        "a variance near 1 cannot survive their difference.")
def _(answer):
    key = answer.strip().lower() if isinstance(answer, str) else answer
    return same_choice("one-pass", options=list(OPTIONS_111),
                       reasons={k: v for k, v in OPTIONS_111.items() if v})(key)


# --- 11.2: eps outside the square root, on a frame whose mean square is eps ------------------

EPS_112 = 1e-6
RATIO_112 = math.sqrt(2 * EPS_112) / (math.sqrt(EPS_112) + EPS_112)  # outside / inside


@exercise("numerics", 2, solution=RATIO_112, wrong=[math.sqrt(2), 1.0, 2.0, 1 / math.sqrt(2)],
          right_because="inside: x / sqrt(2e-6); outside: x / (1e-3 + 1e-6); the ratio is "
                        "sqrt(2e-6) / 1.001e-3 = 1.4128.")
def _(answer):
    why = same_value(RATIO_112, tol=2e-4, what="the ratio")(answer)
    if why is None:
        return None
    if math.isclose(float(answer), math.sqrt(2), rel_tol=1e-6):
        return ("close: the bugged layer divides by rms + eps = 1e-3 + 1e-6, not by 1e-3 "
                "exactly")
    return why + "; inside the root the divisor is sqrt(rms² + eps), outside it is rms + eps"


# --- 11.3: the one-pass variance of (10002, 10006) in float32, by hand -----------------------

@exercise("numerics", 3, solution=0.0, wrong=[4.0, 8.0, -8.0, 16.0],
          right_because="10002² and 10006² round to 100040000 and 100120032, their half-sum is "
                        "100080016 = 10004² exactly: the variance 4 is lost entirely.")
def _(answer):
    why = same_value(0.0, tol=0.0, what="the float32 one-pass variance")(answer)
    if why is None:
        return None
    if math.isclose(float(answer), 4.0):
        return "4 is the exact variance; in float32 the squares are rounded to multiples of 8"
    return why + "; round each square to a multiple of 8 and the sum to a multiple of 16"


# --- 11.4: Keras' BatchNormalization in training at mean 10^4 --------------------------------

@exercise("numerics", 4, solution="lost", wrong=["stable"],
          right_because="its moments are E[x²] − E[x]² in float32: at mean 10^4 the variance is "
                        "lost, and where it comes out negative the output is NaN.")
def _(answer):
    key = answer.strip().lower() if isinstance(answer, str) else answer
    return same_choice("lost", options=["stable", "lost"],
                       reasons={"stable": "Keras' moments are one-pass on the torch backend: "
                                          "run it and compare with float64"})(key)
