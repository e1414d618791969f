"""Where a task writes its outputs: rwfc gives each as RWF_OUTPUT_<NAME>, a file:// URI."""

import json
import os


def write(name, value):
    """Writes a scalar output as JSON where rwfc reads it back."""
    uri = os.environ[f"RWF_OUTPUT_{name.upper()}"]
    path = uri.removeprefix("file://")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f)
