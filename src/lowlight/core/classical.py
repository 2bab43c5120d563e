"""Classical enhancement baselines as pure functions of uint8 RGB arrays ``(H, W, 3)``.

They run wherever a model does (``--method NAME`` for enhance, evaluate and compare) so that
learned models are always compared with what a few lines of image processing achieve. All but
``identity`` and ``gamma`` need OpenCV (and LIME SciPy), from the ``classical`` extra:

* ``gamma``: the report's 2.2 lookup table;
* ``hist-eq``: histogram equalisation of luma (OpenCV, YCrCb), chroma kept;
* ``clahe``: OpenCV CLAHE on the L channel of Lab (clip limit 2, 8x8 tiles by default);
* ``lime``: LIME (Guo, Li, Ling, TIP 2017): illumination = max of R, G, B, refined by the
  structure-aware smoothing of the paper's sped-up solver (weight strategy II), gamma-corrected,
  then divided out;
* ``msrcr``: multi-scale Retinex with colour restoration (Jobson, Rahman, Woodell 1997), with the
  simplest colour balance (Petro, Sbert, Morel, IPOL 2014) as the final stretch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..color import apply_gamma
from ..errors import LowlightError, require
from ..media.photo import to_tensor, to_uint8
from .contract import EnhanceOptions, Enhances


def identity(image: np.ndarray) -> np.ndarray:
    """The dark input unchanged: the floor every method is measured against."""
    return image.copy()


def gamma(image: np.ndarray, gamma: float = 2.2) -> np.ndarray:
    """Brighten with the report's uint8 gamma table."""
    return apply_gamma(image, gamma)


def hist_eq(image: np.ndarray) -> np.ndarray:
    """Equalise the histogram of luma (Y of YCrCb), keeping chroma."""
    import cv2

    ycc = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)
    ycc[..., 0] = cv2.equalizeHist(np.ascontiguousarray(ycc[..., 0]))
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)


def clahe(image: np.ndarray, clip_limit: float = 2.0, tiles: int = 8) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation of L in Lab (a and b kept)."""
    import cv2

    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    op = cv2.createCLAHE(clipLimit=float(clip_limit), tileGridSize=(int(tiles), int(tiles)))
    lab[..., 0] = op.apply(np.ascontiguousarray(lab[..., 0]))
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def refine_illumination(t_hat: np.ndarray, alpha: float, eps: float = 1e-3) -> np.ndarray:
    """LIME's sped-up solver: ``argmin_T |T - T^|^2 + alpha sum_d A_d (d T)^2`` with
    ``A_d = W_d / (|d T^| + eps)`` and ``W_d = 1 / (|d T^| + eps)`` (strategy II), a sparse SPD system."""
    from scipy.sparse import diags, identity
    from scipy.sparse.linalg import spsolve

    h, w = t_hat.shape
    n = h * w
    dx = np.zeros_like(t_hat)
    dy = np.zeros_like(t_hat)
    dx[:, :-1] = t_hat[:, 1:] - t_hat[:, :-1]
    dy[:-1, :] = t_hat[1:, :] - t_hat[:-1, :]
    ax = (1.0 / (np.abs(dx) + eps) ** 2).ravel()
    ay = (1.0 / (np.abs(dy) + eps) ** 2).ravel()
    ax[(np.arange(n) % w) == w - 1] = 0.0  # no forward difference past the right edge
    ay[np.arange(n) >= n - w] = 0.0        # nor past the bottom
    # D^T A D for forward differences, assembled as a 5-point stencil.
    main = ax + ay
    main[1:] += ax[:-1]
    main[w:] += ay[:-w]
    matrix = identity(n, format="csc") + alpha * diags(
        [main, -ax[:-1], -ax[:-1], -ay[:-w], -ay[:-w]], [0, 1, -1, w, -w], format="csc")
    return spsolve(matrix, t_hat.ravel()).reshape(h, w)


def lime(image: np.ndarray, alpha: float = 0.15, gamma: float = 0.8, max_side: int = 1024,
         floor: float = 0.01) -> np.ndarray:
    """LIME: ``R = L / T**gamma`` with ``T`` the refined max-RGB illumination map.

    The smooth map is solved at most ``max_side`` pixels on its long side (0: full size) and
    resized back, which keeps large photos fast; ``floor`` bounds T away from 0.
    """
    import cv2

    x = image.astype(np.float64) / 255.0
    t_hat = x.max(axis=2)
    h, w = t_hat.shape
    scale = max_side / max(h, w) if max_side and max(h, w) > max_side else 1.0
    small = cv2.resize(t_hat, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) \
        if scale < 1.0 else t_hat
    t = refine_illumination(small, alpha)
    if scale < 1.0:
        t = cv2.resize(t, (w, h), interpolation=cv2.INTER_LINEAR)
    t = np.clip(t, floor, 1.0) ** gamma
    return np.round(np.clip(x / t[..., None], 0.0, 1.0) * 255.0).astype(np.uint8)


def msrcr(image: np.ndarray, sigmas: tuple = (15.0, 80.0, 250.0), alpha: float = 125.0,
          beta: float = 46.0, gain: float = 5.0, offset: float = 25.0, low_clip: float = 0.01,
          high_clip: float = 0.01) -> np.ndarray:
    """Multi-scale Retinex with colour restoration.

    ``MSR_c = mean_s [log I_c - log(G_s * I_c)]``, ``C_c = beta (log(alpha I_c) - log(sum_c I_c))``,
    ``out_c = gain (C_c MSR_c + offset)``, then each channel is stretched to [0, 255] after
    clipping ``low_clip`` and ``high_clip`` of its darkest and brightest pixels.
    """
    import cv2

    x = image.astype(np.float64) + 1.0
    log_x = np.log(x)
    msr = np.zeros_like(x)
    for s in sigmas:
        msr += log_x - np.log(cv2.GaussianBlur(x, (0, 0), float(s)))
    msr /= len(sigmas)
    restoration = beta * (np.log(alpha * x) - np.log(x.sum(axis=2, keepdims=True)))
    out = gain * (restoration * msr + offset)
    result = np.empty(image.shape, dtype=np.uint8)
    for c in range(3):
        lo, hi = np.quantile(out[..., c], [low_clip, 1.0 - high_clip])
        span = hi - lo if hi > lo else 1.0
        result[..., c] = np.round(np.clip((out[..., c] - lo) / span, 0.0, 1.0) * 255.0)
    return result


@dataclass(frozen=True)
class MethodEntry:
    """A classical method: its function, default parameters and a one-line description."""

    function: Callable[..., np.ndarray]
    defaults: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    needs: tuple[tuple[str, str], ...] = ()  #: (module, package) from the ``classical`` extra


_CV2 = ("cv2", "opencv-python-headless")
METHODS: dict[str, MethodEntry] = {
    "identity": MethodEntry(identity, {}, "the dark input unchanged (the floor)"),
    "gamma": MethodEntry(gamma, {"gamma": 2.2}, "the report's gamma 2.2 lookup table"),
    "hist-eq": MethodEntry(hist_eq, {}, "histogram equalisation of luma (OpenCV)", (_CV2,)),
    "clahe": MethodEntry(clahe, {"clip_limit": 2.0, "tiles": 8}, "OpenCV CLAHE on L of Lab", (_CV2,)),
    "lime": MethodEntry(lime, {"alpha": 0.15, "gamma": 0.8, "max_side": 1024, "floor": 0.01},
                        "LIME illumination-map estimation (Guo et al. 2017)", (_CV2, ("scipy.sparse", "scipy"))),
    "msrcr": MethodEntry(msrcr, {"sigmas": (15.0, 80.0, 250.0), "alpha": 125.0, "beta": 46.0,
                                 "gain": 5.0, "offset": 25.0, "low_clip": 0.01, "high_clip": 0.01},
                         "multi-scale Retinex with colour restoration (Jobson et al. 1997)", (_CV2,)),
}


@dataclass
class ClassicalMethod(Enhances):
    """A configured classical method behind the :class:`~lowlight.core.contract.ImageEnhancer`
    contract: it works in 8 bits on one whole image, and chooses its own brightness."""

    name: str
    params: dict[str, Any]
    batched = False
    tiles = False
    takes_brightness = False

    def render(self, rgb, options: EnhanceOptions):
        """The method on each image of ``rgb`` ``(B, 3, H, W)`` in [0, 1], through 8 bits."""
        import torch

        function = METHODS[self.name].function
        return torch.cat([to_tensor(function(to_uint8(image), **self.params)) for image in rgb])


def _typed(name: str, key: str, value: Any, default: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if isinstance(default, tuple):
            return tuple(float(v) for v in value.replace(";", ",").split(",") if v.strip())
        if isinstance(default, bool):
            return value.lower() in ("1", "true", "yes", "on")
        return type(default)(value)
    except ValueError:
        raise LowlightError(f"bad value for {name} parameter {key}: {value!r} is not a "
                            f"{type(default).__name__}") from None


def make_method(name: str, **params: Any) -> ClassicalMethod:
    """A classical method with ``params`` (strings from the CLI are converted to each default's type)."""
    if name not in METHODS:
        raise LowlightError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}")
    defaults = METHODS[name].defaults
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        known = ", ".join(defaults) or "none"
        raise LowlightError(f"method {name!r} has no parameter {unknown[0]!r}; its parameters: {known}")
    typed = {k: _typed(name, k, v, defaults[k]) for k, v in params.items()}
    for module, package in METHODS[name].needs:  # one line before any image, not one per image
        require(module, f"--method {name}", "classical", package)
    return ClassicalMethod(name, {**defaults, **typed})
