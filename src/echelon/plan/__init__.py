"""The planning workflow: from a data folder to today's decisions, stored and explained."""
