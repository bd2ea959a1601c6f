"""Map the checkout's top-level folders under the one ``cronkeeper`` namespace.

``api/``, ``services/``, ``sql/`` and ``admin_ui/`` stay real top-level folders
in the repository (they are the project's card), but install as
``cronkeeper.api``, ``cronkeeper.services``, ``cronkeeper.sql`` and
``cronkeeper.admin_ui``: the wheel adds no generic top-level module and carries
the migrations and the UI as package data. Everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup

FOLDERS = {
    "cronkeeper": "cronkeeper",
    "cronkeeper.api": "api",
    "cronkeeper.services": "services",
    "cronkeeper.sql": "sql",
    "cronkeeper.admin_ui": "admin_ui",
}

packages = []
for name, folder in FOLDERS.items():
    packages.append(name)
    packages += [f"{name}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=FOLDERS)
