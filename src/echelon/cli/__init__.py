"""The ``echelon`` console command: a thin Typer + Rich layer over the service functions."""
