"""Batches: the runner that executes notebooks per scenario, its progress line, sweeps of the
engine, and the calibration command. Imports every layer below it; only ``cli`` imports it."""
