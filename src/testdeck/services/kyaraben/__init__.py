"""kyaraben: adapter, simulator and views."""
