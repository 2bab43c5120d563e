"""Public names must not disappear silently: removing one is a breaking change."""

import lowlight

PUBLIC = {"Enhancer", "LowlightError", "TrainConfig", "create_model", "enhance", "evaluate",
          "find_pairs", "list_models", "load_model", "psnr", "ssim", "train", "__version__"}


def test_public_names_resolve():
    assert PUBLIC <= set(lowlight.__all__)
    for name in PUBLIC:
        assert getattr(lowlight, name) is not None, name
    assert callable(lowlight.train) and callable(lowlight.evaluate)
