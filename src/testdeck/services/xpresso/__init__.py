"""xpresso: adapter, simulator and views."""
