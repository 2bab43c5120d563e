"""The enhance core: the enhancer contract and the one enhance path every surface ends in
(enhancer), tiling, weights files and their backends (checkpoint, onnx_backend), devices, and the
classical methods that stand behind the same contract."""
