"""Training models: settings (config), samples (dataset), synthetic pairs (synth), losses, the
loop (loop), hyperparameter search (tune), DDP under torchrun (ddp) and plots."""
