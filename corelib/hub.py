"""``torch.hub``: load models from a ``hubconf.py``, and weights from URLs, with torch's cache.

``load(dir, name, source='local')`` imports ``dir/hubconf.py`` and calls its entry point.
GitHub repositories and URLs are downloaded into ``get_dir()`` (``$TORCH_HOME/hub``, as torch)
once; offline, a repository or file already there is used, and anything else raises a
RuntimeError naming what could not be downloaded.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile

__all__ = ["get_dir", "set_dir", "load", "list", "help", "load_state_dict_from_url",
           "download_url_to_file"]

_hub_dir = [None]
_builtin_list = list


def get_dir() -> str:
    """``$TORCH_HOME/hub``, else ``$XDG_CACHE_HOME/torch/hub``, else ``~/.cache/torch/hub``."""
    if _hub_dir[0] is not None:
        return _hub_dir[0]
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch")
    return os.path.join(os.path.expanduser(home), "hub")


def set_dir(d) -> None:
    _hub_dir[0] = os.path.expanduser(str(d))


def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    """Download ``url`` to ``dst`` (atomically); RuntimeError when it cannot be fetched."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(dst)) or ".")
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    out.write(chunk)
                    digest.update(chunk)
    except (urllib.error.URLError, OSError) as exc:
        raise RuntimeError(f"torch.hub could not download {url} ({exc}); plugrad looked in the "
                           f"hub cache {get_dir()} first. Offline, copy the file there or load "
                           f"it with torch.load") from None
    if hash_prefix is not None and not digest.hexdigest().startswith(hash_prefix):
        os.remove(tmp)
        raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got '
                           f'"{digest.hexdigest()}")')
    shutil.move(tmp, dst)


def _parse_repo(github: str):
    repo, _, ref = github.partition(":")
    if repo.count("/") != 1:
        raise ValueError(f'Invalid input: repo_info should be in the form of "repo_owner/repo_name'
                         f'[:ref]". Got {github}')
    owner, name = repo.split("/")
    return owner, name, ref or "main"


def _github_dir(github: str, force_reload: bool) -> str:
    owner, name, ref = _parse_repo(github)
    target = os.path.join(get_dir(), f"{owner}_{name}_{ref.replace('/', '_')}")
    if os.path.isdir(target) and not force_reload:
        return target
    os.makedirs(get_dir(), exist_ok=True)
    archive = target + ".zip"
    download_url_to_file(f"https://github.com/{owner}/{name}/zipball/{ref}", archive)
    with zipfile.ZipFile(archive) as z:
        top = z.namelist()[0].split("/")[0]
        z.extractall(get_dir())
    os.remove(archive)
    shutil.rmtree(target, ignore_errors=True)
    shutil.move(os.path.join(get_dir(), top), target)
    return target


def _hubconf(repo_dir: str):
    path = os.path.join(repo_dir, "hubconf.py")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Cannot find hubconf.py in {repo_dir}")
    spec = importlib.util.spec_from_file_location("hubconf", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, repo_dir)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(repo_dir)
    return module


def _repo_dir(repo_or_dir, source, force_reload):
    source = source.lower()
    if source not in ("github", "local"):
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')
    return repo_or_dir if source == "local" else _github_dir(repo_or_dir, force_reload)


def _entry(module, model):
    fn = getattr(module, model, None)
    if fn is None or not callable(fn):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    return fn


def list(github, force_reload=False, skip_validation=False, trust_repo=None, verbose=True):  # noqa: A001
    module = _hubconf(_repo_dir(github, "github" if "/" in github and not os.path.isdir(github)
                                else "local", force_reload))
    return [n for n in dir(module) if callable(getattr(module, n)) and not n.startswith("_")]


def help(github, model, force_reload=False, skip_validation=False, trust_repo=None):  # noqa: A001
    module = _hubconf(_repo_dir(github, "github" if not os.path.isdir(github) else "local",
                                force_reload))
    return _entry(module, model).__doc__


def load(repo_or_dir, model, *args, source="github", trust_repo=None, force_reload=False,
         verbose=True, skip_validation=False, **kwargs):
    """Call entry point ``model`` of the repository's ``hubconf.py`` with ``args``/``kwargs``."""
    module = _hubconf(_repo_dir(repo_or_dir, source, force_reload))
    return _entry(module, model)(*args, **kwargs)


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True,
                             check_hash=False, file_name=None, weights_only=False):
    """``plugrad.load`` of ``url``, cached in ``<hub dir>/checkpoints``."""
    from .serialization import load as _load
    model_dir = model_dir or os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    name = file_name or os.path.basename(urllib.parse.urlparse(url).path)
    cached = os.path.join(model_dir, name)
    if not os.path.exists(cached):
        prefix = None
        if check_hash:
            stem = name.rsplit(".", 1)[0]
            prefix = stem.rsplit("-", 1)[-1] if "-" in stem else None
        download_url_to_file(url, cached, prefix, progress)
    return _load(cached, map_location=map_location, weights_only=weights_only)
