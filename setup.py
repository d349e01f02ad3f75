"""Only what pyproject.toml cannot say: the wheel also carries the top-level `data/` folder (neighbourhoods,
population, boundaries, the sampling frame) as `sdg16/data/` and the app entry `app.py` as `sdg16/app.py` (`sdg16 app`
runs it), so that an installed package finds them without the checkout (`analysis.margins.DATA`,
`forms.build.DATA_DIR` look there when the checkout's folders are absent). The built web form needs nothing here: it
ships as package data of `collect` (`collect/webform_dist/`)."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
CARRIED = {"data": "sdg16/data", "app.py": "sdg16/app.py"}


class BuildWithData(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # an editable install reads the checkout's folders directly
            return
        for source, target in CARRIED.items():
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, Path(self.build_lib) / target, dirs_exist_ok=True)
            elif (ROOT / source).is_file():
                shutil.copy2(ROOT / source, Path(self.build_lib) / target)


setup(cmdclass={"build_py": BuildWithData})
