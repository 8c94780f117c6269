"""pytest-usacloud-sandbox: usacloud scripts as pytest items, run in Sakura Cloud's sandbox zone."""

__version__ = "0.1.0"
