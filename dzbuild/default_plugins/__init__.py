"""dzbuild's built-in plugins, each registered through the same hooks a third party uses."""
