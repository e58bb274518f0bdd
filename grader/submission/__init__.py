"""Finding a submission's files and converting each submission format into a module the
sandbox can import, without running anything in the trusted process.
"""
