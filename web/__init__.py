"""e-Gömrük web application: Litestar routes, templates, settings and services."""
