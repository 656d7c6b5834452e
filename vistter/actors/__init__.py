"""The actors of the media path, one sub-package per stage, in the order a frame walks them.

``sources`` (cameras, files, slate) -> ``program`` (the mixer) -> ``encoder`` -> ``fanout``
-> ``outputs`` (destinations, recorder). Each stage keeps its actor together with the objects
only it uses; a stage imports only the stages before it. The OTP runtime they run on (actor
base, links, owned processes, supervisors) is :mod:`vistter.supervisors`.
"""
