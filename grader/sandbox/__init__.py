"""The trusted side of the process boundary: starting, talking to and replacing workers."""
