"""PocketFlow executor on Dask: ``BatchNode(executor="dask")`` runs items on a Dask cluster."""

from pocketflow_dask.executor import DaskExecutor

__all__ = ["DaskExecutor"]
