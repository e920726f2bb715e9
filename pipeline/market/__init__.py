"""The market stage: snapshot files to the prices, validation, returns, events and flows tables."""
