"""The web pages (Simplified Chinese) of the service: templates, words and assets, over the same services."""
