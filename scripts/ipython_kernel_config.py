# Installed by `make deps` as .venv/etc/ipython/ipython_kernel_config.py, which every IPython
# kernel of this venv reads, whoever starts it (Quarto, the built-in renderer, an editor).
# Quarto's kernels listen on TCP, and ipykernel then logs "Kernel is running over TCP without
# encryption" once per page; the kernels are local and short-lived, so only errors are logged.
c = get_config()  # noqa: F821  (provided by the IPython config loader)
c.IPKernelApp.log_level = "ERROR"
