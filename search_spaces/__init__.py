"""The built-in search spaces; each module defines ``SPACE``. See hpo.spaces."""
