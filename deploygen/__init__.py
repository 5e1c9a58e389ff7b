"""Generators for ccmon's deployment files: Prometheus rules, Grafana dashboards, k8s objects.

The generated files are committed under deploy/; `make deploy-generate` rewrites them and
`make deploy-check` fails when they differ from what is committed.
"""
