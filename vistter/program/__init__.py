"""The program bus plumbing shared by the media-path actors.

These objects outlive the actors that use them: a camera, the mixer or the encoder can
be restarted by its supervisor without losing the last good frame or the queues.
"""
