"""The notebooks ``csat run`` executes, shipped as package data (installed as ``analysis.notebooks``)."""
