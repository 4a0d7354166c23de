"""Grafo on your own machine, for your own code: scripts, `with` blocks, notebooks (`import grafo`).

Nothing here is sandboxed: the code is yours and runs with your rights, with no limits but the ones
you set. The web service (`app.service`) is the place for other people's programs.
"""

from app.local.notebook import init_notebook
from app.local.recording import Recording, record, trace, trace_script

__all__ = ["Recording", "init_notebook", "record", "trace", "trace_script"]
