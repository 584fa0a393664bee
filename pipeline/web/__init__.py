"""The workbench: ``kaohe serve``, a local web app over the same workspace, ledger and stages."""
