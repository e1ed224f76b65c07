"""Ship the top-level data folders inside the wheel.

`fixtures/` and `scenarios/` sit at the top of the repository (the agreed layout) but must be
installed too, so that `pip install . && conformance run` works outside the clone. They are
mapped to `conformance._data.fixtures` / `conformance._data.scenarios`; `conformance.paths`
finds them in either place. Everything else is in pyproject.toml.
"""

import os

from setuptools import find_namespace_packages, find_packages, setup

DATA_DIRS = {"fixtures": "conformance._data.fixtures", "scenarios": "conformance._data.scenarios"}


def data_packages():
    packages, package_dir = [], {}
    for folder, dotted in DATA_DIRS.items():
        if not os.path.isdir(folder):
            continue
        for sub in [""] + find_namespace_packages(where=folder):
            name = f"{dotted}.{sub}" if sub else dotted
            packages.append(name)
            package_dir[name] = os.path.join(folder, *sub.split(".")) if sub else folder
    return packages, package_dir


extra_packages, extra_dirs = data_packages()
setup(
    packages=find_packages(include=["conformance*", "reference*"]) + extra_packages,
    package_dir=extra_dirs,
    package_data={name: ["*.yaml", "*.yml", "*.json", "*.pem", "*.md", "*.txt"] for name in extra_packages}
    | {"conformance": ["**/*.yaml", "**/*.json"], "reference": ["**/*.yaml", "**/*.json", "**/*.md"]},
)
