"""Territory Workbench: sales territory alignment in Python and JupyterLab."""

__version__ = "0.1.0"
