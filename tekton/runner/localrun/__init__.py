"""Run a Tekton Pipeline from its own YAML on this machine, step by step."""
