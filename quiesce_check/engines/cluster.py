"""Ray, the optional engine that runs workers on other cores and other machines.

Takes `--cluster ADDRESS` (`local`: a Ray started in this process, bound to 127.0.0.1);
gives `connect`, which imports Ray only when asked (it is the `cluster` extra, `pip install
'quiesce-check[cluster]'`; without it `ClusterUnavailable` says so), joins or starts the
cluster once per process, and `cpus`, what the cluster offers. Nothing here speaks a
protocol of its own: every byte between machines goes through Ray. Imports nothing of
the project.
"""

from __future__ import annotations

import os
from typing import Any

INSTALL = "pip install 'quiesce-check[cluster]'"


class ClusterUnavailable(Exception):
    """Ray is not installed, or the cluster cannot be reached; the message says which and what to do."""


def ray_module() -> Any:
    """The `ray` module, or `ClusterUnavailable` saying how to install it."""
    try:
        import ray  # the optional extra
    except ImportError:
        raise ClusterUnavailable(f"--cluster needs Ray, which is not installed: {INSTALL}") from None
    return ray


LOOPBACK = ("127.0.0.1", "localhost")


def connect(address: str) -> Any:
    """Ray, connected to the cluster at `address` (`local`: started here, on this machine's
    loopback, with its temporary files in a private folder Ray makes). A process already
    connected (a test's cluster) stays connected to it."""
    if address == "local" or address.split(":")[0] in LOOPBACK:
        # a cluster of this machine alone, on its loopback: Ray's switch for that (read when Ray
        # is imported), else Ray takes the machine's address for the cluster's, which it does
        # not listen on
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray = ray_module()
    if ray.is_initialized():
        return ray
    # quiet: Ray's own log lines stay in its log files, not on the user's terminal
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    try:
        if address == "local":
            # address "local": a new Ray of this process's own, never one another run started here
            ray.init(address="local", include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1",
                     configure_logging=False)
        else:
            # a cluster on this machine's loopback: this process joins it there too (Ray would
            # otherwise take the machine's address for it, which the cluster does not listen on)
            here = {"_node_ip_address": "127.0.0.1"} if address.split(":")[0] in LOOPBACK else {}
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False, **here)
    except Exception as e:  # Ray raises ConnectionError, RuntimeError, ValueError by version
        raise ClusterUnavailable(f"--cluster {address}: cannot join the Ray cluster ({e}); start one with "
                                 "`ray start --head`, then give its address (host:6379)") from None
    return ray


def cpus(ray: Any) -> int:
    """The CPUs the cluster offers, at least 1."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))
