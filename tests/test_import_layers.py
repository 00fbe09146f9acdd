"""The package's import path: ``import coseg_mmseg`` (a config's ``custom_imports``) registers
the model's components and loads nothing of the tools; modules import downwards only, and no
two modules import each other."""
import ast
import json
import os
import subprocess
import sys
from typing import Dict, List, Set

from tests.helpers import REPO

PACKAGE = os.path.join(REPO, 'coseg_mmseg')
# Higher layers first: a module may import from its own layer and the layers after it.
LAYERS = ['visualization', 'deploy', 'apis', 'engine', 'evaluation', 'models', 'datasets',
          'utils']
# What moved to coseg_tools (issue 26): none of it may come back on the model's import path.
TOOL_MODULES = ['coseg_mmseg.utils.' + name for name in (
    'cli', 'tool_config', 'benchmarking', 'data_check', 'dist', 'evaluation', 'cpu_heap',
    'class_counts', 'checkpoint_check')] + ['coseg_mmseg.testing']


def loaded_after_import(module: str) -> List[str]:
    """Names in ``sys.modules`` after ``import <module>`` in a fresh interpreter."""
    code = f'import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))'
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    out = subprocess.run([sys.executable, '-c', code], cwd=REPO, env=env, check=True,
                         stdout=subprocess.PIPE, text=True, timeout=300).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_importing_the_plugin_loads_nothing_of_the_tools():
    loaded = loaded_after_import('coseg_mmseg')
    assert 'coseg_mmseg.models.segmentors.coseg' in loaded  # the import did register the model
    assert [m for m in loaded if m == 'coseg_tools' or m.startswith('coseg_tools.')] == []
    assert [m for m in loaded if m in TOOL_MODULES or m.startswith('coseg_mmseg.testing.')] == []
    assert [m for m in loaded if m.startswith(('coseg_mmseg.apis', 'coseg_mmseg.deploy',
                                               'coseg_mmseg.visualization'))] == []


def module_name(path: str) -> str:
    rel = os.path.relpath(path, REPO)[:-len('.py')].replace(os.sep, '.')
    return rel[:-len('.__init__')] if rel.endswith('.__init__') else rel


def package_modules() -> Dict[str, str]:
    """Module name -> file, for every module of coseg_mmseg."""
    found = {}
    for root, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith('.py'):
                found[module_name(os.path.join(root, name))] = os.path.join(root, name)
    return found


def imports_of(name: str, path: str, known: Set[str]) -> Set[str]:
    """The modules ``name`` imports, anywhere in the file (functions included), resolved to a
    module of ``known`` where ``from X import Y`` names a module, else to ``X``."""
    with open(path) as f:
        tree = ast.parse(f.read())
    package = name if path.endswith('__init__.py') else name.rpartition('.')[0]
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[:len(base) - node.level + 1]
                source = '.'.join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            for alias in node.names:
                sub = f'{source}.{alias.name}'
                targets.add(sub if sub in known else source)
    return targets


def import_graph() -> Dict[str, Set[str]]:
    modules = package_modules()
    return {name: imports_of(name, path, set(modules)) for name, path in modules.items()}


def layer(module: str) -> str:
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else ''


def test_no_module_imports_a_higher_layer_or_the_tools():
    wrong = []
    for name, targets in import_graph().items():
        if not layer(name):
            continue  # the package's __init__ registers everything
        if layer(name) not in LAYERS:
            wrong.append(f'{name}: in no layer of {LAYERS}')
            continue
        for target in targets:
            if target.split('.')[0] == 'coseg_tools':
                wrong.append(f'{name} -> {target}')
            elif (target.startswith('coseg_mmseg.') and layer(target) in LAYERS
                  and LAYERS.index(layer(target)) < LAYERS.index(layer(name))):
                wrong.append(f'{name} -> {target}')
    assert wrong == []


def test_no_two_modules_import_each_other():
    """No cycle among the package's modules (Tarjan's strongly connected components); a
    package's ``__init__`` re-exporting its own modules is not an edge back."""
    graph = import_graph()
    edges = {name: {t for t in targets if t in graph and not name.startswith(t + '.')
                    and not t.startswith(name + '.')}
             for name, targets in graph.items()}
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert cycles == []
