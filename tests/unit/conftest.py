from __future__ import annotations

import pytest

import toys


@pytest.fixture()
def toy_registered():
    toys.register()
    yield toys
    toys.unregister()


@pytest.fixture()
def fake_dist(tmp_path, monkeypatch):
    """Install throwaway distributions (dist-info + modules) on ``sys.path``.

    Calling ``fake_dist(name, version, entry_points, modules)`` writes
    ``<name>-<version>.dist-info/{METADATA,entry_points.txt}`` and the given module files,
    so that plug-ins are discovered through real entry points.
    """
    import importlib
    import sys

    from textedit.registry.kinds import registries

    monkeypatch.delenv("TEXTEDIT_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    created_modules: list[str] = []

    def make(name, version="1.0", entry_points=None, modules=None):
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        lines = []
        for group, eps in (entry_points or {}).items():
            lines.append(f"[{group}]")
            lines += [f"{ep} = {target}" for ep, target in eps.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        for filename, source in (modules or {}).items():
            (site / filename).write_text(source)
            created_modules.append(filename.removesuffix(".py"))
        importlib.invalidate_caches()
        for registry in registries().values():
            registry.refresh()

    yield make
    for module in created_modules:
        sys.modules.pop(module, None)
    monkeypatch.undo()
    for registry in registries().values():
        registry.refresh()
