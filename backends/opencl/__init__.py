"""The ``opencl`` backend (being written): registered through the entry point once ready."""
