"""``python -m beffroi`` runs the command line."""

from beffroi.cli import main

main()
