"""One folder per concern; `pipelines.definitions` merges them."""
