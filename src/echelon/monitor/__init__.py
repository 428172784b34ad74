"""Running echelon every week (issue 16): incremental data in a store (``echelon ingest``),
planning from it (``echelon plan --from-store``), nowcasting of late data, forecast and drift
monitoring (``echelon monitor``).

This room may import the planning workflow and storage; the planning core reaches it only
through its public functions.
"""
