"""Many files at once: the plan of inputs and outputs for local folders and URIs (plan) and the
Ray engine that runs a plan on a cluster (ray_engine)."""
