"""The workspace's routes, one module per area: pages, review (worklist and actions), api."""
