"""Statistics: inference (bootstrap, HAC, posterior summaries), regressions, the local-linear-trend
state-space smoother and the gap-closing test. Imports only the root modules."""
