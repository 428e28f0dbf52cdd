"""Static site generator for an LLM model catalog.

The pipeline reads top to bottom: load -> validate -> compute -> page models -> render -> write.
"""

__version__ = "0.1.0"
