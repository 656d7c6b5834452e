"""Degraded mode: keep the stream on air when the network or the machine cannot carry the
configured encode, by stepping the output down on measured signals and back up when they
are stable (the spec's DegradedModeManager and Adaptive Profile).

One concept per module: :mod:`~vistter.degraded.board` (figures from the telemetry bus),
:mod:`~vistter.degraded.signals` (network and load verdicts), :mod:`~vistter.degraded.sockets`
(a publisher's unacknowledged bytes), :mod:`~vistter.degraded.steps`
(the rungs), :mod:`~vistter.degraded.ladder` (when to step), :mod:`~vistter.degraded.alerts`
(what the operator is told), :mod:`~vistter.degraded.notice` (the on-program notice),
:mod:`~vistter.degraded.state` (the status), :mod:`~vistter.degraded.control` (the encoder's
``reconfigure``), :mod:`~vistter.degraded.manager` (the actor), :mod:`~vistter.degraded.child`
(its place in the tree). Configuration: ``[degraded]`` (:mod:`vistter.models.degraded`).
"""
