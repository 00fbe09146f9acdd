"""Install coseg-mmseg: ``pip install -e .`` (see scripts/setup_env.sh for the full stack)."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_requirements(name: str) -> list[str]:
    """Requirement lines of ``requirements/<name>.txt`` (comments and includes dropped)."""
    lines = (HERE / 'requirements' / f'{name}.txt').read_text().splitlines()
    return [ln.split('#')[0].strip() for ln in lines
            if ln.split('#')[0].strip() and not ln.startswith('-')]


setup(
    name='coseg-mmseg',
    version='0.1.0',
    description='CoSeg (open-vocabulary segmentation through semantic coexistence) '
                'for MMSegmentation 1.x',
    long_description=(HERE / 'README.md').read_text() if (HERE / 'README.md').exists() else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.10',
    packages=find_packages(
        include=['coseg_mmseg', 'coseg_mmseg.*', 'coseg_tools', 'coseg_tools.*']),
    install_requires=read_requirements('torch') + read_requirements('runtime'),
    extras_require={
        'tests': read_requirements('tests'),
        'optional': read_requirements('optional'),
        'build': read_requirements('build'),
    },
)
