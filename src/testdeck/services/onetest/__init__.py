"""onetest: adapter, simulator and views."""
