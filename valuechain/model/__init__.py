"""The model: closed-form formulas, the model's inputs, the vectorized engine, capital, profit,
downstream revenue D, the demand gap, labs, valuations, backlog, uncertainty, the requirement
methods and the typed results. Imports ``stats``, ``dataset``, ``scenario`` and the root modules."""
