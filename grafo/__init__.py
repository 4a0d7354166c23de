"""Grafo: see what PyTorch's autograd does with your own code, values and gradients on every node.

    import grafo
    with grafo.record() as g:          # records the torch work of the block
        loss = model(x).sum()
        loss.backward()
    g                                  # in a notebook: the interactive graph
    g.save("graph.html")               # or .svg, .png, .json

    g = grafo.trace(model, x)          # the same for one call

Your code runs with your own rights (no sandbox). This is a thin layer over the `app` package, named
`grafo` so that it does not clash with a notebook's own `app`.
"""

from app import __version__
from app.local import Recording, init_notebook, record, trace, trace_script

__all__ = ["Recording", "init_notebook", "record", "trace", "trace_script", "__version__"]
