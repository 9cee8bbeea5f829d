"""The families behind ``plugrad.nn.functional``; that module re-exports them."""
