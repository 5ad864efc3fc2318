"""The bottom layer: environment variables, the tierwise home, settings, errors and the warehouse lock."""
