"""convlens benchmark: every method's cost as a ratio to the model's own passes, in one run."""
