"""Image files and formats: which files are images, atomic writes and URIs (files), decoding and
encoding with bit depth, alpha and metadata (photo), camera RAW (raw), video (video), and pairs
of images on disk (pairs). Knows nothing of models."""
