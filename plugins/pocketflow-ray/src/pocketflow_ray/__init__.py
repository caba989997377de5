"""PocketFlow executor on Ray: ``BatchNode(executor="ray")`` runs items on a Ray cluster."""

from pocketflow_ray.executor import RayExecutor

__all__ = ["RayExecutor"]
