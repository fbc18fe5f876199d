"""chainrule's neural-network library (modules, losses, optimisers, data), built on ``autograd``.

It is being built; for now it is an empty package.
"""
