"""xyops: adapter, simulator and views."""
