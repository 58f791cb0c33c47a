"""Report output: Chinese narrative, tables and charts (Markdown, HTML, Word)."""
