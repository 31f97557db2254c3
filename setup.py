"""Builds the neardup Python package for pip with the project's CMake.

    pip install --no-build-isolation --no-index .

The extension module neardup._neardup is the CMake target neardup_python
(python/CMakeLists.txt); this file only runs CMake and copies the module and
the pure-Python files of python/neardup/ into the wheel. Nothing is
downloaded: the build uses the Debian packages of scripts/setup.sh.

Environment:
  NEARDUP_BUILD_DIR   an already configured build tree to reuse (e.g.
                      build/release): only `cmake --build` runs there.
                      Default: build/pip, configured here for the running
                      interpreter (no tests, benchmarks or CLI).
  CMAKE_BUILD_PARALLEL_LEVEL   jobs (default: all cores).
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = pathlib.Path(__file__).resolve().parent
# The one version: project(VERSION) of CMakeLists.txt, as neardup.__version__.
VERSION = re.search(r"project\(neardup VERSION ([0-9.]+)", (ROOT / "CMakeLists.txt").read_text()).group(1)


class cmake_build_ext(build_ext):
    def build_extension(self, ext: Extension) -> None:
        given = os.environ.get("NEARDUP_BUILD_DIR")
        build_dir = pathlib.Path(given).resolve() if given else ROOT / "build" / "pip"
        if not given:
            subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build_dir), "-G", "Ninja",
                            "-DCMAKE_BUILD_TYPE=Release", "-DNEARDUP_BUILD_PYTHON=ON",
                            f"-DPython3_EXECUTABLE={sys.executable}", "-DNEARDUP_BUILD_TESTS=OFF",
                            "-DNEARDUP_BUILD_BENCH=OFF", "-DNEARDUP_BUILD_EXAMPLES=OFF"], check=True)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "neardup_python", "-j", jobs], check=True)
        modules = sorted((build_dir / "python" / "neardup").glob("_neardup*.so"))
        if len(modules) != 1:
            raise RuntimeError(f"expected one built _neardup module in {build_dir}/python/neardup, found {modules}")
        target = pathlib.Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(modules[0], target)


setup(
    version=VERSION,
    packages=["neardup"],
    package_dir={"neardup": "python/neardup"},
    package_data={"neardup": ["*.pyi", "py.typed"]},
    ext_modules=[Extension("neardup._neardup", sources=[])],
    cmdclass={"build_ext": cmake_build_ext},
    zip_safe=False,
)
