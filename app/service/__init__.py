"""Grafo's web service: the REST API, admission control, and the worker pool that runs programs.

One job per module: `api` (routes, thin), `tracing` (a request's way to a worker and back),
`pool` and `worker` (the processes), `admission` (413 and 503), `logs`, `models`, `server`.
"""
