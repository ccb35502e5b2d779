"""leadrules report: CRM exports (leads, activities) + the rules -> the measured agreement: volume, conversion, channels, follow-up, grades against outcomes, as HTML, Markdown or JSON."""
