"""MIME types of the data valuechain displays in a notebook beside what a reader sees.

An executed notebook thus carries its key figures, its tables and its charts as data: the site
leaves the key figures off the pages, and the exports read the tables and charts from here.
"""
METRICS = "application/vnd.valuechain.metrics+json"  # key figures (valuechain.model.notebook.record)
TABLE = "application/vnd.valuechain.table+json"  # a formatted table (valuechain.report.tables.Table)
CHART = "application/vnd.valuechain.chart+json"  # a chart's files and words (valuechain.report.charts.Chart)
