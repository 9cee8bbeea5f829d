"""The built-in backend plugins: numpy (``cpu``), cupy (``cuda``) and pyopencl (``opencl``).

Each registers through the ``plugrad.backends`` entry-point group, exactly as a third-party
backend would. ``xp/`` is the array-module implementation that numpy and cupy share.
"""
