"""alyvix: adapter, simulator and views."""
