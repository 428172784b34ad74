"""The supply-network model, its file formats, importers and validation."""

from echelon.network.io import load_network, network_from_dict, save_network
from echelon.network.model import Lane, Network, Node, Rationing, ServiceMeasure, StockoutMode

__all__ = [
    "Lane",
    "Network",
    "Node",
    "Rationing",
    "ServiceMeasure",
    "StockoutMode",
    "load_network",
    "network_from_dict",
    "save_network",
]
