"""What a notebook shows: labels and units, tables, charts, narrative sentences, notebook 05's
report, and the recording of key figures. Imports the model and the layers below it."""
