"""Enhancement networks, built by name from a small registry (one file per architecture)."""

from . import curve_unet, gain_unet, iat, sci, seed_unet, sid_unet, zero_dce  # noqa: F401  (registers the models)
from .registry import ModelEntry, create_model, get_entry, list_models, model_args, register_model
from .stats import count_parameters, gmacs

__all__ = ["ModelEntry", "create_model", "get_entry", "list_models", "model_args",
           "register_model", "count_parameters", "gmacs"]
